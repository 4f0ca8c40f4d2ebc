"""The jobs there are: each domain registers the function that does one kind of job.

A handler is ``handler(job, *args) -> Outcome | None``: it runs inside the kernel's
transaction boundary (one ``command_transaction()``), as the person who asked for it
(``job.requested_by_id``), and raises a ``DomainError`` when a rule refuses the work — that
ends the job at once, with the message for the person to read. Any other exception counts
as one failed attempt, tried again after a back-off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..kernel.errors import DomainError


class Outcome(NamedTuple):
    """What a finished job did (a sentence for the person who asked) and where to see it."""

    note: str = ""
    url: str | None = None


class Gone(DomainError):
    """What the job was for no longer exists: the job ends, not needed, with this message."""


@dataclass
class RunningJob:
    """What a handler may know of the job it is running, and how it says how far it has got."""

    id: int
    name: str
    attempt: int
    requested_by_id: int | None
    report: Callable[[int, str], None]
    _last: tuple[int, str] | None = field(default=None, repr=False)

    def progress(self, percent: int, note: str = "") -> None:
        """Tell the job's page how far the work has got (written at once, outside the work's
        transaction; only when it has changed)."""
        now = (max(0, min(100, percent)), note)
        if now != self._last:
            self._last = now
            self.report(*now)


@dataclass(frozen=True)
class Handler:
    name: str
    title: str  # what the job's page says it is doing: "Publishing", "Serving the notice"
    run: Callable[..., Outcome | None]


HANDLERS: dict[str, Handler] = {}


def job_handler(name: str, *, title: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register the function that does the job called ``name``."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        if name in HANDLERS and HANDLERS[name].run is not function:
            raise ValueError(f"two handlers for the job {name!r}")
        HANDLERS[name] = Handler(name, title, function)
        return function

    return register


def title_of(name: str) -> str:
    handler = HANDLERS.get(name)
    return handler.title if handler is not None else name
