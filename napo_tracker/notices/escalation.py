"""Escalation that moves: the daily run over notices whose running deadline passed unanswered.

The rules:
- A served notice whose response is overdue, or an escalated one whose current step is
  overdue, with no response recorded, moves to the next rung of the ladder (line manager →
  senior manager → health and safety committee → grievance), one rung a day at most and never
  skipping one; at the top (grievance) it stays, flagged overdue.
- With ``NOTICE_ESCALATION = "confirm"`` the run moves nothing: it asks the notice's rep, in
  their inbox (and by e-mail if they chose), to take the next step, once per rung.
- Each move is on the notice, on its case's timeline and in the audit log; the rep and the
  region's officials are told (``escalate_notice``), and the region's branch contact, where
  one is set, is e-mailed: references, rungs and dates only.
- Each notice moves in a transaction of its own, committed before any e-mail is sent, so an
  e-mail never tells of a move that was rolled back, and a failure on one notice leaves the
  others moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..audit.models import AuditAction, record
from ..extensions import db
from ..kernel.errors import ConfigurationError
from ..kernel.transaction import command_transaction
from ..mail import build_message, outbox, public_url
from ..notifications.models import NotificationKind
from ..notifications.services import deliver_pending, notify
from .models import EscalationStep, ForeseeabilityNotice
from .services import OPEN_STATUSES, NoticeError, active_due_on, escalate_notice, escalation_text, next_escalation_steps

MODES = ("automatic", "confirm")


@dataclass(frozen=True)
class Overdue:
    notice: ForeseeabilityNotice
    due_on: date
    next_step: str


@dataclass
class EscalationRun:
    moved: list[str] = field(default_factory=list)  # "FN-2026-0001 → senior_manager"
    asked: list[str] = field(default_factory=list)
    branch_emails: int = 0


def escalation_mode() -> str:
    mode = str(current_app.config["NOTICE_ESCALATION"]).strip().lower()
    if mode not in MODES:
        raise ConfigurationError(f"NOTICE_ESCALATION must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def overdue_unanswered(on: date) -> list[Overdue]:
    """Notices whose running deadline is before ``on``, with no response and a rung left."""
    stmt = (
        select(ForeseeabilityNotice)
        .where(
            ForeseeabilityNotice.status.in_(OPEN_STATUSES),
            ForeseeabilityNotice.response_received_on.is_(None),
            ForeseeabilityNotice.anonymised_on.is_(None),
        )
        .options(selectinload(ForeseeabilityNotice.escalations), selectinload(ForeseeabilityNotice.region))
        .order_by(ForeseeabilityNotice.reference)
    )
    found = []
    for notice in db.session.scalars(stmt):
        due = active_due_on(notice)
        following = next_escalation_steps(notice)
        if due is not None and due < on and following:
            found.append(Overdue(notice, due, following[0]))
    return found


def run_escalation(on: date, *, progress: Callable[[int], object] | None = None) -> EscalationRun:
    """Move (or ask about) each overdue, unanswered notice; then send the e-mails."""
    mode = escalation_mode()
    run = EscalationRun()
    branch: list[tuple[str, str]] = []
    for item in overdue_unanswered(on):
        notice = item.notice
        with command_transaction():
            if mode == "automatic":
                try:
                    with db.session.begin_nested():
                        escalation = escalate_notice(None, notice, item.next_step, on, automatic=True, on=on)
                except NoticeError:
                    continue  # someone took the step a moment ago: nothing to do
                run.moved.append(f"{notice.reference} → {item.next_step}")
                contact = notice.region.branch_contact_email
                if contact:
                    branch.append((contact, escalation_text(notice, escalation)))
            else:
                label = gettext(EscalationStep.label_of(item.next_step)).lower()
                asked = notify(
                    notice.assigned_rep,
                    NotificationKind.NOTICE_ESCALATED,
                    gettext(
                        "Notice %(ref)s: no response by %(day)s. Confirm the escalation to %(step)s.",
                        ref=notice.reference,
                        day=item.due_on.strftime("%a %-d %b %Y"),
                        step=label,
                    ),
                    reference=notice.reference,
                    url=f"/notices/{notice.reference}#escalate",
                    key=f"escalate-ask:{notice.id}:{item.next_step}",
                    soon=False,
                )
                if asked is not None:
                    record(None, AuditAction.NOTICE_ESCALATION_ASKED, notice, step=item.next_step)
                    run.asked.append(f"{notice.reference} → {item.next_step}")
        if progress is not None:
            progress(1)
    deliver_pending()
    run.branch_emails = _tell_branches(branch)
    return run


def _tell_branches(messages: list[tuple[str, str]]) -> int:
    if not messages:
        return 0
    union = current_app.config["UNION_NAME"]
    with outbox() as box:
        for address, text in messages:
            body = (
                f"{text}\n\n"
                + gettext("The notice: %(url)s", url=public_url("notices.index"))
                + "\n\n"
                + gettext(
                    "This message holds references and dates only. The branch's reps and officials can log in "
                    "for details."
                )
                + "\n"
            )
            subject = gettext("%(union)s: a foreseeability notice was escalated", union=union)
            box.send(build_message(address, subject, body))
    return len(messages)
