"""Deadlines on cases: the types an admin defines, the deadlines set on a case, and the daily
reminders about them.

The rules:
- A deadline type counts from a starting day by one rule: working days (weekends and
  England-and-Wales bank holidays skipped, ``kernel.working_days``), calendar days, or months
  less a day (the same day ``n`` months on, less one: 10 January + 3 months less a day is
  9 April; a day the month lacks is its last day first). A rule that cannot be computed (no
  days, too many, a date past the calendar's end) is refused with the reason.
- A deadline's date is computed once, when it is set, and stored: a later change to its type
  never moves a deadline already given to a member's case.
- A case's open deadlines remind its assigned rep, in the inbox and by e-mail as they chose:
  once when the type's reminder days before begin, on the day, and once when it is overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import abort, current_app
from flask_babel import gettext
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..audit.models import AuditAction, record
from ..extensions import db
from ..kernel import clock
from ..kernel.clock import add_months
from ..kernel.working_days import add_working_days
from ..notifications.models import NotificationKind
from ..notifications.services import notify
from ..regions.scoping import can_access_region, scope_to_regions
from .models import LIVE_STATUSES, Case, CaseDeadline, DeadlineRule, DeadlineType, EntryKind
from .services import CaseError, _add_entry, _check_not_anonymised

# The most each rule may count: beyond these a deadline is a typing mistake, not a union's clock.
MAX_AMOUNT = {
    DeadlineRule.WORKING_DAYS.value: 780,
    DeadlineRule.CALENDAR_DAYS.value: 1096,
    DeadlineRule.MONTHS_LESS_A_DAY.value: 36,
}
MAX_REMIND_DAYS = 60


class DeadlineError(CaseError):
    """A deadline or deadline type that breaks a rule; the message says why."""


class NotAnAdmin(DeadlineError):
    """Someone other than an admin reached for an admin's work on deadline types."""

    status_code = 403


# ---------------------------------------------------------------------------- the rules


def compute_due_on(rule: str, amount: int | None, starts_on: date | None) -> date:
    """The day a deadline of this rule falls, counted from ``starts_on``; ``DeadlineError``
    with the reason when it cannot be computed."""
    if not DeadlineRule.has_value(rule):
        raise DeadlineError("Choose how the deadline is counted.", "rule")
    if amount is None or amount < 1:
        raise DeadlineError("A deadline must count at least one day or month.", "amount")
    if amount > MAX_AMOUNT[rule]:
        raise DeadlineError(
            f"{DeadlineRule.label_of(rule)} cannot count more than {MAX_AMOUNT[rule]}: "
            "check the number, or choose another rule.",
            "amount",
        )
    if starts_on is None:
        raise DeadlineError("Enter the day the deadline counts from.", "starts_on")
    try:
        if rule == DeadlineRule.WORKING_DAYS:
            due = add_working_days(starts_on, amount)
        elif rule == DeadlineRule.CALENDAR_DAYS:
            due = starts_on + timedelta(days=amount)
        else:
            due = add_months(starts_on, amount) - timedelta(days=1)
    except (OverflowError, ValueError):
        raise DeadlineError(
            f"This deadline cannot be computed: counted from {starts_on:%-d %B %Y} it would fall past the "
            "calendar's last day.",
            "starts_on",
        ) from None
    longest = int(current_app.config["CASE_DEADLINE_MAX_DAYS"])
    if (due - starts_on).days > longest:
        raise DeadlineError(f"A deadline may fall at most {longest} days after it starts.", "amount")
    return due


# ---------------------------------------------------------------------------- types


@dataclass
class TypeDetails:
    name: str
    rule: str
    amount: int | None
    remind_days_before: int | None
    is_active: bool = True


def deadline_types(*, active_only: bool = False) -> list[DeadlineType]:
    stmt = select(DeadlineType).order_by(DeadlineType.is_active.desc(), DeadlineType.name)
    if active_only:
        stmt = stmt.where(DeadlineType.is_active.is_(True))
    return list(db.session.scalars(stmt))


def get_deadline_type(type_id: int) -> DeadlineType:
    found = db.session.get(DeadlineType, type_id)
    if found is None:
        abort(404)
    return found


def _check_type(details: TypeDetails, *, other_than: int | None = None) -> None:
    name = (details.name or "").strip()
    if not name:
        raise DeadlineError("Give the deadline type a name.", "name")
    clash = select(DeadlineType.id).where(DeadlineType.name == name)
    if other_than is not None:
        clash = clash.where(DeadlineType.id != other_than)
    if db.session.scalar(clash) is not None:
        raise DeadlineError("There is already a deadline type with this name.", "name")
    if details.remind_days_before is None or not 0 <= details.remind_days_before <= MAX_REMIND_DAYS:
        raise DeadlineError(f"Remind between 0 and {MAX_REMIND_DAYS} days before.", "remind_days_before")
    # The rule must compute from any day: try it from today.
    compute_due_on(details.rule, details.amount, clock.today())
    details.name = name


def create_deadline_type(actor: User | None, details: TypeDetails) -> DeadlineType:
    """Admins define a type: its name, its rule and how many days ahead it reminds."""
    _check_admin(actor)
    _check_type(details)
    deadline_type = DeadlineType(
        name=details.name,
        rule=details.rule,
        amount=details.amount,
        remind_days_before=details.remind_days_before,
        is_active=True,
    )
    try:
        with db.session.begin_nested():
            db.session.add(deadline_type)
    except IntegrityError:
        raise DeadlineError("There is already a deadline type with this name.", "name") from None
    record(actor, AuditAction.DEADLINE_TYPE_CREATED, deadline_type, rule=details.rule, amount=details.amount)
    return deadline_type


def update_deadline_type(actor: User | None, deadline_type: DeadlineType, details: TypeDetails) -> DeadlineType:
    """Change a type; deadlines already set keep the date they were given."""
    _check_admin(actor)
    _check_type(details, other_than=deadline_type.id)
    deadline_type.name = details.name
    deadline_type.rule = details.rule
    deadline_type.amount = details.amount or 0
    deadline_type.remind_days_before = details.remind_days_before or 0
    deadline_type.is_active = details.is_active
    db.session.flush()
    record(actor, AuditAction.DEADLINE_TYPE_CHANGED, deadline_type, rule=details.rule, amount=details.amount)
    return deadline_type


def _check_admin(actor: User | None) -> None:
    """Deadline types are an admin's work; ``actor`` None is a command run on the server."""
    if actor is not None and not actor.is_admin:
        raise NotAnAdmin("Only an admin may define deadline types.")


# ---------------------------------------------------------------------------- on a case


def deadlines_of(case: Case) -> list[CaseDeadline]:
    """A case's deadlines, open ones first, soonest first."""
    stmt = (
        select(CaseDeadline)
        .where(CaseDeadline.case_id == case.id)
        .options(joinedload(CaseDeadline.deadline_type))
        .order_by(CaseDeadline.met_on.is_not(None), CaseDeadline.due_on, CaseDeadline.id)
    )
    return list(db.session.scalars(stmt))


def set_deadline(actor: User, case: Case, deadline_type_id: int | None, starts_on: date | None) -> CaseDeadline:
    """Set a deadline on a live case from an active type, counted from ``starts_on``; it goes on
    the timeline and in the audit log."""
    _check_not_anonymised(case)
    if case.status not in LIVE_STATUSES:
        raise DeadlineError("Deadlines are set on open cases only: reopen the case first.", "deadline_type_id")
    deadline_type = db.session.get(DeadlineType, deadline_type_id) if deadline_type_id else None
    if deadline_type is None or not deadline_type.is_active:
        raise DeadlineError("Choose a deadline type from the list.", "deadline_type_id")
    today = clock.today()
    if starts_on is not None and abs((starts_on - today).days) > int(current_app.config["CASE_DEADLINE_MAX_DAYS"]):
        raise DeadlineError("The starting day is too far from today: check the year.", "starts_on")
    due_on = compute_due_on(deadline_type.rule, deadline_type.amount, starts_on)
    assert starts_on is not None  # compute_due_on refused a missing day
    deadline = CaseDeadline(
        case_id=case.id,
        deadline_type_id=deadline_type.id,
        starts_on=starts_on,
        due_on=due_on,
        created_by_id=actor.id,
    )
    db.session.add(deadline)
    _add_entry(
        case,
        actor,
        EntryKind.DEADLINE,
        f"Deadline set: {deadline_type.name}, {deadline_type.rule_text} from {starts_on:%-d %B %Y}, "
        f"due {due_on:%A %-d %B %Y}.",
    )
    db.session.flush()
    record(actor, AuditAction.CASE_DEADLINE_SET, case, deadline_type=deadline_type.id, due_on=due_on.isoformat())
    return deadline


def get_deadline(case: Case, deadline_id: int) -> CaseDeadline:
    """One of this case's deadlines (the case was loaded for the user), or 404."""
    deadline = db.session.get(CaseDeadline, deadline_id)
    if deadline is None or deadline.case_id != case.id:
        abort(404)
    return deadline


def meet_deadline(actor: User, case: Case, deadline: CaseDeadline, met_on: date | None = None) -> CaseDeadline:
    """The deadline was met (the appeal lodged, the hearing held): its clock stops."""
    _check_not_anonymised(case)
    if deadline.met_on is not None:
        raise DeadlineError("This deadline is already marked as met.")
    met_on = met_on or clock.today()
    if met_on > clock.today():
        raise DeadlineError("The date met cannot be in the future.")
    deadline.met_on = met_on
    _add_entry(case, actor, EntryKind.DEADLINE, f"Deadline met: {deadline.deadline_type.name} ({met_on:%-d %B %Y}).")
    db.session.flush()
    record(actor, AuditAction.CASE_DEADLINE_MET, case, deadline=deadline.id, met_on=met_on.isoformat())
    return deadline


# ---------------------------------------------------------------------------- on lists


def _is_open_deadline() -> Any:
    return CaseDeadline.met_on.is_(None)


def overdue_deadline_case_ids(case_ids: list[int], on: date | None = None) -> set[int]:
    """Of these cases, those with an open deadline already past (one query, for a page of a list)."""
    if not case_ids:
        return set()
    on = on or clock.today()
    stmt = select(CaseDeadline.case_id).where(
        CaseDeadline.case_id.in_(case_ids), _is_open_deadline(), CaseDeadline.due_on < on
    )
    return set(db.session.scalars(stmt))


def has_overdue_deadline(on: date) -> Any:
    """SQL: the case has an open deadline already past (for a list's filter)."""
    return exists().where(CaseDeadline.case_id == Case.id, _is_open_deadline(), CaseDeadline.due_on < on)


def calendar_deadlines(user: User) -> list[CaseDeadline]:
    """Open deadlines of live cases for a person's calendar: in their regions; a rep's own cases."""
    stmt = (
        select(CaseDeadline)
        .join(Case, Case.id == CaseDeadline.case_id)
        .where(_is_open_deadline(), Case.status.in_([s.value for s in LIVE_STATUSES]))
        .options(joinedload(CaseDeadline.deadline_type), joinedload(CaseDeadline.case))
        .order_by(CaseDeadline.due_on, CaseDeadline.id)
    )
    stmt = scope_to_regions(stmt, Case.region_id, user)
    if user.is_rep:
        stmt = stmt.where(Case.assigned_rep_id == user.id)
    return list(db.session.scalars(stmt))


# ---------------------------------------------------------------------------- reminders


@dataclass(frozen=True)
class DueReminder:
    deadline: CaseDeadline
    rep: User
    state: str  # 'soon', 'today' or 'overdue'

    @property
    def key(self) -> str:
        # Once when the reminder days begin, once on the day, once when overdue.
        return f"deadline:{self.deadline.id}:{self.state}"


def due_reminders(on: date) -> list[DueReminder]:
    """Open deadlines of live, assigned cases that are coming up, due on ``on`` or past."""
    stmt = (
        select(CaseDeadline, DeadlineType, Case, User)
        .join(DeadlineType, DeadlineType.id == CaseDeadline.deadline_type_id)
        .join(Case, Case.id == CaseDeadline.case_id)
        .join(User, User.id == Case.assigned_rep_id)
        .where(
            _is_open_deadline(),
            Case.status.in_([s.value for s in LIVE_STATUSES]),
            Case.anonymised_on.is_(None),
            User.is_active.is_(True),
            # The furthest any type reminds ahead: the rest are filtered below, type by type.
            CaseDeadline.due_on <= on + timedelta(days=MAX_REMIND_DAYS),
        )
        .order_by(CaseDeadline.due_on, CaseDeadline.id)
    )
    found = []
    for deadline, deadline_type, case, rep in db.session.execute(stmt):
        if not can_access_region(rep, case.region_id):
            continue  # a rep moved to other regions is no longer told about this one's cases
        if deadline.due_on < on:
            state = "overdue"
        elif deadline.due_on == on:
            state = "today"
        elif deadline.due_on <= on + timedelta(days=deadline_type.remind_days_before):
            state = "soon"
        else:
            continue
        found.append(DueReminder(deadline, rep, state))
    return found


def remind_message(reminder: DueReminder) -> str:
    deadline = reminder.deadline
    values = {
        "ref": deadline.case.reference,
        "name": deadline.deadline_type.name,
        "day": f"{deadline.due_on:%a %-d %b %Y}",
    }
    if reminder.state == "overdue":
        return gettext("%(ref)s: %(name)s was due %(day)s and is overdue.", **values)
    if reminder.state == "today":
        return gettext("%(ref)s: %(name)s is due today (%(day)s).", **values)
    return gettext("%(ref)s: %(name)s is due %(day)s.", **values)


def send_deadline_reminders(on: date) -> int:
    """Tell each case's rep of its deadlines coming up, due today or overdue (each once);
    how many were told. E-mails go when the caller sends them (``deliver_pending``)."""
    told = 0
    for reminder in due_reminders(on):
        kind = NotificationKind.DEADLINE_OVERDUE if reminder.state == "overdue" else NotificationKind.DEADLINE_DUE
        made = notify(
            reminder.rep,
            kind,
            remind_message(reminder),
            reference=reminder.deadline.case.reference,
            url=f"/cases/{reminder.deadline.case.reference}#deadlines",
            key=reminder.key,
            soon=False,
        )
        if made is not None:
            told += 1
    if told:
        record(None, AuditAction.CASE_DEADLINE_REMINDERS_SENT, None, told=told, on=on.isoformat())
    return told
