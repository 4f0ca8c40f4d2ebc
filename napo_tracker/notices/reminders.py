"""Daily reminders to reps about notices that are due soon or overdue.

A reminder carries references and dates only (no member names, no workload figures) and
a link. Each (rep, notice, day) is sent at most once: running twice on a day sends nothing new.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..audit.models import AuditAction, record
from ..extensions import db
from ..kernel.transaction import command_transaction
from ..mail import MailError, build_message, outbox, public_url
from ..notifications.models import NotificationKind
from ..notifications.services import notify
from ..regions.scoping import can_access_region
from .models import ForeseeabilityNotice, NoticeReminder
from .services import OPEN_STATUSES, active_due_on, deadline_state


@dataclass
class Reminder:
    rep: User
    notices: list[ForeseeabilityNotice]


@dataclass
class RemindResult:
    sent: int = 0  # e-mails
    notices: int = 0  # notice lines across them


def due_reminders(on: date) -> list[Reminder]:
    """For each active assigned rep, their due-soon or overdue notices not yet reminded about today."""
    already = {
        (user_id, notice_id)
        for user_id, notice_id in db.session.execute(
            select(NoticeReminder.user_id, NoticeReminder.notice_id).where(NoticeReminder.sent_on == on)
        )
    }
    stmt = (
        select(ForeseeabilityNotice)
        .where(ForeseeabilityNotice.status.in_(OPEN_STATUSES), ForeseeabilityNotice.assigned_rep_id.is_not(None))
        .options(selectinload(ForeseeabilityNotice.escalations), selectinload(ForeseeabilityNotice.assigned_rep))
        .order_by(ForeseeabilityNotice.reference)
    )
    by_rep: dict[int, list[ForeseeabilityNotice]] = defaultdict(list)
    reps: dict[int, User] = {}
    for notice in db.session.scalars(stmt):
        rep = notice.assigned_rep
        if rep is None or not rep.is_active or not can_access_region(rep, notice.region_id):
            continue
        if (rep.id, notice.id) in already or deadline_state(notice, on) is None:
            continue
        reps[rep.id] = rep
        by_rep[rep.id].append(notice)
    return [
        Reminder(reps[rep_id], sorted(items, key=lambda n: (active_due_on(n), n.reference)))
        for rep_id, items in sorted(by_rep.items())
    ]


def reminder_body(reminder: Reminder, on: date) -> str:
    """Plain text: references and dates only."""
    lines = [gettext("Foreseeability notices that need you, as of %(day)s:", day=on.strftime("%d %B %Y")), ""]
    for notice in reminder.notices:
        state = gettext("OVERDUE") if deadline_state(notice, on) == "overdue" else gettext("due soon")
        due = gettext("%(state)s: due %(day)s", state=state, day=format(active_due_on(notice), "%a %d %b %Y"))
        lines.append(f"  {notice.reference}  {due}  {public_url('notices.detail', ref=notice.reference)}")
    lines += [
        "",
        gettext("All your notices: %(url)s", url=public_url("notices.index")),
        "",
        gettext("This reminder holds references and dates only. Log in to see the details."),
    ]
    return "\n".join(lines) + "\n"


def send_reminders(on: date, *, dry_run: bool = False, progress: Callable[[int], object] | None = None) -> RemindResult:
    """E-mail each rep their list, and mark it sent once the server has accepted it.

    A server that cannot be reached or refuses a message raises MailError; whatever it did
    not accept is not marked as sent, and whatever it accepted stays marked.
    """
    reminders = due_reminders(on)
    result = RemindResult()
    if dry_run or not reminders:
        result.sent, result.notices = len(reminders), sum(len(r.notices) for r in reminders)
        return result
    subject_prefix = current_app.config["UNION_NAME"]
    with outbox() as box:
        for reminder in reminders:
            count = len(reminder.notices)
            message = build_message(
                reminder.rep.email,
                ngettext(
                    "%(union)s: %(num)d foreseeability notice needs attention",
                    "%(union)s: %(num)d foreseeability notices need attention",
                    count,
                    union=subject_prefix,
                ),
                reminder_body(reminder, on),
            )
            # One transaction per rep, committed as soon as the server has taken the e-mail: an
            # e-mail cannot be unsent, so a later failure (the next address refused, the
            # connection lost) must not roll back the marks of those already delivered, or the
            # next run would send them again. A refusal rolls back only this rep's marks.
            with command_transaction():
                box.send(message)
                for notice in reminder.notices:
                    db.session.add(NoticeReminder(user_id=reminder.rep.id, notice_id=notice.id, sent_on=on))
                    _to_inbox(reminder.rep, notice, on)
                record(
                    None,
                    AuditAction.NOTICE_REMINDERS_SENT,
                    ("users", str(reminder.rep.id)),
                    notices=count,
                    sent_on=on.isoformat(),
                )
            result.sent += 1
            result.notices += count
            if progress is not None:
                progress(1)
    return result


def _to_inbox(rep: User, notice: ForeseeabilityNotice, on: date) -> None:
    """The same news in the rep's inbox (once per deadline and state; the e-mail above is its e-mail)."""
    due = active_due_on(notice)
    overdue = deadline_state(notice, on) == "overdue"
    day = f"{due:%a %-d %b %Y}"
    notify(
        rep,
        NotificationKind.DEADLINE_OVERDUE if overdue else NotificationKind.DEADLINE_DUE,
        (
            gettext("Notice %(ref)s: a response was due %(day)s and is overdue.", ref=notice.reference, day=day)
            if overdue
            else gettext("Notice %(ref)s: a response is due %(day)s.", ref=notice.reference, day=day)
        ),
        reference=notice.reference,
        url=f"/notices/{notice.reference}",
        key=f"notice-deadline:{notice.id}:{due}:{'overdue' if overdue else 'soon'}",
        soon=False,
        email=False,
    )


__all__ = ["MailError", "RemindResult", "Reminder", "due_reminders", "send_reminders"]
