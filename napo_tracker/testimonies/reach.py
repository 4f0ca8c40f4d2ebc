"""Where a member's words went once approved, as told by the domains that sent them out.

Testimonies sit below the domains that quote them (briefings), so they cannot ask them;
those domains register here instead. When a member withdraws, every ``on_withdrawal``
handler runs inside the same transaction (a failing one undoes the withdrawal), and the
member's status page lists what each ``copies_reporter`` says was sent out, so the page can
say plainly what happened to each copy and what cannot be recalled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from .models import Testimony


@dataclass(frozen=True)
class SentCopy:
    """One copy of the member's words that left the union: what, when, and what became of it."""

    what: str  # "a briefing for MPs and peers (BRF3-26, version 1)"
    sent_on: date
    now: str  # what the union has done about it since the withdrawal, in the member's words


WithdrawalHandler = Callable[[Testimony], None]
CopyReporter = Callable[[Testimony], list[SentCopy]]

WITHDRAWAL_HANDLERS: list[WithdrawalHandler] = []
COPY_REPORTERS: list[CopyReporter] = []


def on_withdrawal(handler: WithdrawalHandler) -> WithdrawalHandler:
    """Decorator: run ``handler(testimony)`` whenever a member withdraws a testimony."""
    if handler not in WITHDRAWAL_HANDLERS:
        WITHDRAWAL_HANDLERS.append(handler)
    return handler


def copies_reporter(reporter: CopyReporter) -> CopyReporter:
    """Decorator: ``reporter(testimony)`` lists the copies of its words a domain sent out."""
    if reporter not in COPY_REPORTERS:
        COPY_REPORTERS.append(reporter)
    return reporter


def withdrawn(testimony: Testimony) -> None:
    for handler in WITHDRAWAL_HANDLERS:
        handler(testimony)


def copies_sent(testimony: Testimony) -> list[SentCopy]:
    """Every copy of the testimony's words that went out, the oldest first."""
    copies = [copy for reporter in COPY_REPORTERS for copy in reporter(testimony)]
    return sorted(copies, key=lambda copy: copy.sent_on)
