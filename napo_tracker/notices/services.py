"""The rules of foreseeability notices: working-day deadlines, service, response, escalation.

Every function that changes the database takes the acting user, flushes, writes an audit
entry and leaves the commit to the caller.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from markupsafe import Markup
from sqlalchemy import Date, Integer, Select, bindparam, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..audit.models import AuditAction, record
from ..cases.models import Case, EntryKind, Member
from ..cases.services import add_timeline_entry
from ..csvexport import check_export_size, rows_in, streamed
from ..extensions import db
from ..jobs.models import Job
from ..jobs.services import enqueue, page_path
from ..kernel.clock import today, utcnow
from ..kernel.errors import ConflictError, DomainError, check_version
from ..kernel.labels import N_

# Re-exported: the working-day rule is the kernel's; notices' callers know it from here too.
from ..kernel.working_days import add_working_days
from ..kernel.working_days import is_working_day as is_working_day
from ..kernel.working_days import working_days_until as working_days_until
from ..notifications.models import NotificationKind
from ..notifications.services import notify_all, officials_for_region
from ..pdf import PDFRenderError, render_pdf
from ..references import insert_with_reference, next_numbered_reference
from ..regions.models import Region, Unit
from ..regions.scoping import RegionalUser, can_access_region, get_for_user_or_404, region_ids_for, scope_to_regions
from .models import (
    MAX_WMT_PERCENT,
    CalendarToken,
    Concern,
    EscalationStep,
    ForeseeabilityNotice,
    NoticeEscalation,
    NoticeKind,
    NoticeOutcome,
    NoticeStatus,
)

DUE_SOON_WORKING_DAYS = 3
# Statuses whose clock is running: a response (or the current escalation step's) is awaited.
OPEN_STATUSES = (NoticeStatus.SERVED.value, NoticeStatus.ESCALATED.value)


STALE_NOTICE_MESSAGE = "Someone else changed this notice after you opened it. Reload it and make your change again."


class NoticeError(DomainError):
    """A change that breaks a rule of notices. ``field`` names the form field the message belongs next to."""


class StaleNotice(ConflictError):
    """Someone else saved the notice since this form was loaded (409)."""


# --- working days ---------------------------------------------------------------------------


def response_working_days() -> int:
    return int(current_app.config["NOTICE_RESPONSE_WORKING_DAYS"])


# --- deadlines ------------------------------------------------------------------------------


def active_due_on(notice: ForeseeabilityNotice) -> date | None:
    """The deadline running now: the response while served, the current step once escalated."""
    if notice.status == NoticeStatus.SERVED:
        return notice.response_due_on
    if notice.status == NoticeStatus.ESCALATED and notice.current_escalation is not None:
        return notice.current_escalation.due_on
    return None


def deadline_state(notice: ForeseeabilityNotice, on: date | None = None) -> str | None:
    """'overdue', 'due_soon' (within three working days) or None when no clock is running."""
    due = active_due_on(notice)
    if due is None:
        return None
    on = on or today()
    if due < on:
        return "overdue"
    if due <= add_working_days(on, DUE_SOON_WORKING_DAYS):
        return "due_soon"
    return None


def due_soon_cutoff(on: date | None = None) -> date:
    return add_working_days(on or today(), DUE_SOON_WORKING_DAYS)


# --- loading --------------------------------------------------------------------------------


def get_notice_for(user: RegionalUser, ref: str) -> ForeseeabilityNotice:
    """The notice with this reference within the user's regions, or 404 (missing or not theirs)."""
    return get_for_user_or_404(user, ForeseeabilityNotice, ForeseeabilityNotice.reference == ref.strip().upper())


def view_notice(user: RegionalUser, ref: str) -> ForeseeabilityNotice:
    """Open a notice's page: within the user's regions (404 otherwise), and every view audited."""
    notice = get_notice_for(user, ref)
    record(user, AuditAction.NOTICE_VIEWED, notice)
    return notice


# --- anonymising ----------------------------------------------------------------------------


def _check_not_anonymised(notice: ForeseeabilityNotice) -> None:
    if notice.anonymised_on is not None:
        raise NoticeError(
            f"{notice.reference} was anonymised on {notice.anonymised_on:%-d %B %Y}: only its facts are kept, "
            "and its letter is no longer held."
        )


def anonymise_notice(actor, notice: ForeseeabilityNotice, *, reason: str) -> None:
    """Keep a notice as facts only, so that the figures of notices served stay true: its kind,
    status, region, unit, dates, WMT %, caseload, concerns ticked, signatory count and outcome
    stay; its links to members (and to the case), the manager's name, every free text, the
    escalation notes and the frozen letter go (the letter's SHA-256 stays)."""
    notice.member_id = None
    notice.named_members.clear()
    notice.case_id = None
    notice.served_to_name = ""
    notice.concerns_detail = ""
    notice.letter_wording = ""
    notice.response_summary = ""
    notice.letter_pdf = None
    for escalation in notice.escalations:
        escalation.note = ""
    notice.anonymised_on = today()
    db.session.flush()
    record(actor, AuditAction.NOTICE_ANONYMISED, notice, reason=reason)


def unlink_member(actor, notice: ForeseeabilityNotice, member: Member, *, reason: str) -> None:
    """Take one member off a collective notice's list of names; the notice and its count stay."""
    if member in notice.named_members:
        notice.named_members.remove(member)
        db.session.flush()
        record(actor, AuditAction.NOTICE_CHANGED, notice, member_unlinked=True, reason=reason)


@dataclass
class NoticeFilters:
    status: str = ""
    region_id: int | None = None
    unit_id: int | None = None
    due: str = ""  # 'overdue' | 'due_soon' | ''
    sort: str = "due"  # 'due' | 'served' | 'reference'


def notices_for(user, filters: NoticeFilters | None = None, on: date | None = None) -> Select:
    """The notices a user may see, filtered and sorted in SQL."""
    filters = filters or NoticeFilters()
    on = on or today()
    stmt = scope_to_regions(select(ForeseeabilityNotice), ForeseeabilityNotice.region_id, user)
    stmt = stmt.options(
        selectinload(ForeseeabilityNotice.escalations),
        selectinload(ForeseeabilityNotice.region),
        selectinload(ForeseeabilityNotice.unit),
    )
    if filters.status:
        stmt = stmt.where(ForeseeabilityNotice.status == filters.status)
    if filters.region_id:
        stmt = stmt.where(ForeseeabilityNotice.region_id == filters.region_id)
    if filters.unit_id:
        stmt = stmt.where(ForeseeabilityNotice.unit_id == filters.unit_id)
    if filters.due == "overdue":
        stmt = stmt.where(ForeseeabilityNotice.status == NoticeStatus.SERVED, ForeseeabilityNotice.response_due_on < on)
    elif filters.due == "due_soon":
        stmt = stmt.where(
            ForeseeabilityNotice.status == NoticeStatus.SERVED,
            ForeseeabilityNotice.response_due_on >= on,
            ForeseeabilityNotice.response_due_on <= due_soon_cutoff(on),
        )
    if filters.sort == "served":
        stmt = stmt.order_by(ForeseeabilityNotice.served_on.desc().nulls_last(), ForeseeabilityNotice.id.desc())
    elif filters.sort == "reference":
        stmt = stmt.order_by(ForeseeabilityNotice.reference)
    else:
        stmt = stmt.order_by(ForeseeabilityNotice.response_due_on.asc().nulls_last(), ForeseeabilityNotice.id.desc())
    return stmt


EXPORT_HEADER = [
    "reference",
    "kind",
    "status",
    "region",
    "unit",
    "signatories",
    "served_to_role",
    "wmt_percent",
    "caseload",
    "served_on",
    "response_due_on",
    "deadline",
    "response_received_on",
    "outcome",
]


def export_notices(user, filters: NoticeFilters) -> Iterator[list[Any]]:
    """The CSV export of the user's filtered list: counted (at most ``EXPORT_MAX_ROWS``) and
    audited now, its rows read as the download is sent."""
    stmt = notices_for(user, filters)
    count = rows_in(stmt)
    check_export_size(count)
    record(user, AuditAction.NOTICES_EXPORTED, None, count=count)
    return _export_rows(stmt)


def _export_rows(stmt: Select) -> Iterator[list[Any]]:
    for n in streamed(stmt):
        yield [
            n.reference,
            n.kind,
            n.status,
            n.region.name,
            n.unit.name if n.unit else "",
            n.signatory_count,
            n.served_to_role,
            n.wmt_percent,
            n.caseload,
            n.served_on,
            n.response_due_on,
            deadline_state(n) or "",
            n.response_received_on,
            n.outcome or "",
        ]


def notices_for_case(user, case_id: int) -> list[ForeseeabilityNotice]:
    """The notices served about one case, as the user may see them, newest first."""
    stmt = scope_to_regions(select(ForeseeabilityNotice), ForeseeabilityNotice.region_id, user)
    stmt = stmt.where(ForeseeabilityNotice.case_id == case_id).options(selectinload(ForeseeabilityNotice.escalations))
    stmt = stmt.order_by(ForeseeabilityNotice.served_on.desc().nulls_first(), ForeseeabilityNotice.id.desc())
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class DeadlineLine:
    """One line of the home page's deadlines panel: what it names, not a whole notice."""

    reference: str
    place: str  # the unit's name, or the region's
    active_due_on: date
    deadline_state: str  # 'overdue' or 'due_soon'


def attention_needed(user, on: date | None = None, limit: int = 10) -> tuple[list[DeadlineLine], int]:
    """Served or escalated notices in the user's regions (a rep's own) that are overdue or due
    soon, soonest first: the first ``limit`` and how many there are, in one query.

    The running deadline is ``active_due_on`` written in SQL: the response while served, the
    latest escalation step's once escalated.
    """
    on = on or today()
    region_ids = region_ids_for(user)
    params: dict[str, Any] = {"cutoff": due_soon_cutoff(on), "user_id": user.id, "limit": limit}
    if region_ids is not None:
        params["region_ids"] = sorted(region_ids)
    statement = _deadlines_statement(region_ids is not None, user.is_rep)
    rows = db.session.connection().execute(statement, params).all()  # plain columns: no ORM needed
    lines = [DeadlineLine(row.reference, row.place, row.due, "overdue" if row.due < on else "due_soon") for row in rows]
    return lines, (rows[0].total if rows else 0)


@lru_cache(maxsize=8)
def _deadlines_statement(scoped: bool, is_rep: bool) -> Select:
    """Built once per process for each kind of user; the day's cut-off, the user, their regions
    and the limit are bound (``cutoff``, ``user_id``, ``region_ids``, ``limit``)."""
    notice = ForeseeabilityNotice
    latest_step_due = (
        select(NoticeEscalation.due_on)
        .where(NoticeEscalation.notice_id == notice.id)
        .order_by(NoticeEscalation.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    due = sql_case(
        (notice.status == NoticeStatus.SERVED.value, notice.response_due_on),
        (notice.status == NoticeStatus.ESCALATED.value, latest_step_due),
    ).label("due")
    inner = (
        select(notice.reference, func.coalesce(Unit.name, Region.name).label("place"), due)
        .join(Region, Region.id == notice.region_id)
        .outerjoin(Unit, Unit.id == notice.unit_id)
        .where(notice.status.in_(OPEN_STATUSES))
    )
    if scoped:
        inner = inner.where(notice.region_id.in_(bindparam("region_ids", expanding=True)))
    if is_rep:
        inner = inner.where(notice.assigned_rep_id == bindparam("user_id", type_=Integer))
    running = inner.subquery()
    return (
        select(running, func.count().over().label("total"))
        .where(running.c.due <= bindparam("cutoff", type_=Date))
        .order_by(running.c.due, running.c.reference)
        .limit(bindparam("limit", type_=Integer))
    )


# --- changes --------------------------------------------------------------------------------


@dataclass
class NoticeDetails:
    """The editable facts of a notice, as a form hands them over."""

    kind: str
    region_id: int
    unit_id: int | None
    served_to_name: str
    served_to_role: str
    wmt_percent: Decimal | None  # None only from a form that let it through: refused
    caseload: int | None = None
    signatory_count: int | None = 1
    concerns: list[str] = field(default_factory=list)
    concerns_detail: str = ""
    letter_wording: str = ""
    assigned_rep_id: int | None = None
    case_reference: str = ""
    member_id: int | None = None  # an individual notice's member
    named_member_ids: list[int] = field(default_factory=list)  # a collective notice's named members


def _check_details(user, details: NoticeDetails) -> None:
    if not NoticeKind.has_value(details.kind):
        raise NoticeError("Choose individual or collective.", "kind")
    if details.wmt_percent is None or not (0 <= details.wmt_percent <= MAX_WMT_PERCENT):
        raise NoticeError(f"WMT must be between 0 and {MAX_WMT_PERCENT} %.", "wmt_percent")
    if details.caseload is not None and details.caseload < 0:
        raise NoticeError("A caseload cannot be negative.", "caseload")
    if details.kind == NoticeKind.INDIVIDUAL:
        details.signatory_count = 1
    elif details.signatory_count is None or details.signatory_count < 1:
        raise NoticeError("A collective notice needs at least one signatory.", "signatory_count")
    if not all(Concern.has_value(code) for code in details.concerns):
        raise NoticeError("Choose concerns from the list.", "concerns")
    region = db.session.get(Region, details.region_id)
    if region is None or not can_access_region(user, region.id):
        raise NoticeError("Choose one of your regions.", "region_id")
    if details.unit_id is not None:
        unit = db.session.get(Unit, details.unit_id)
        if unit is None or unit.region_id != region.id:
            raise NoticeError("That unit is not in the chosen region.", "unit_id")
    if details.assigned_rep_id is not None:
        rep = db.session.get(User, details.assigned_rep_id)
        if rep is None or not rep.is_active or not can_access_region(rep, region.id):
            raise NoticeError("The assigned rep must cover the notice's region.", "assigned_rep_id")
    _check_links(details, region.id)


def _check_links(details: NoticeDetails, region_id: int) -> None:
    """A linked case and named members must belong to the notice's region (missing and elsewhere read alike)."""
    details.case_reference = (details.case_reference or "").strip().upper()
    if details.case_reference:
        case = db.session.scalar(
            select(Case).where(Case.reference == details.case_reference, Case.region_id == region_id)
        )
        if case is None:
            raise NoticeError("There is no case with that reference in this notice's region.", "case_reference")
        if details.kind == NoticeKind.INDIVIDUAL and details.member_id is None and case.member_id is not None:
            details.member_id = case.member_id
    if details.kind == NoticeKind.COLLECTIVE:
        details.member_id = None
        ids = set(details.named_member_ids or [])
        if len(ids) > (details.signatory_count or 0):
            raise NoticeError("More members are named than signed the notice.", "named_member_ids")
    else:
        ids = {details.member_id} if details.member_id is not None else set()
        details.named_member_ids = []
    if ids:
        found = db.session.scalar(
            select(func.count()).select_from(Member).where(Member.id.in_(ids), Member.region_id == region_id)
        )
        if found != len(ids):
            field_name = "named_member_ids" if details.kind == NoticeKind.COLLECTIVE else "member_id"
            raise NoticeError("Choose members from the notice's region.", field_name)


def _apply(notice: ForeseeabilityNotice, details: NoticeDetails) -> None:
    # _check_details has refused a missing WMT figure or signatory count.
    assert details.wmt_percent is not None and details.signatory_count is not None
    notice.kind = details.kind
    notice.region_id = details.region_id
    notice.unit_id = details.unit_id
    notice.served_to_name = details.served_to_name
    notice.served_to_role = details.served_to_role
    notice.wmt_percent = details.wmt_percent
    notice.caseload = details.caseload
    notice.signatory_count = details.signatory_count
    notice.concerns = [concern.value for concern in Concern if concern in details.concerns]
    notice.concerns_detail = details.concerns_detail or ""
    notice.letter_wording = details.letter_wording or ""
    if details.assigned_rep_id is not None:
        notice.assigned_rep_id = details.assigned_rep_id
    notice.case_id = (
        db.session.scalar(select(Case.id).where(Case.reference == details.case_reference))
        if details.case_reference
        else None
    )
    notice.member_id = details.member_id
    notice.named_members = (
        list(db.session.scalars(select(Member).where(Member.id.in_(details.named_member_ids))))
        if details.named_member_ids
        else []
    )


def create_notice(actor, details: NoticeDetails) -> ForeseeabilityNotice:
    """A new notice starts as a draft; the rep who records it is assigned unless someone else is named."""
    _check_details(actor, details)
    year = today().year

    def build(reference: str) -> ForeseeabilityNotice:
        notice = ForeseeabilityNotice(
            reference=reference,
            status=NoticeStatus.DRAFT.value,
            created_by_id=actor.id if actor else None,
            assigned_rep_id=actor.id if actor else None,
        )
        _apply(notice, details)
        return notice

    notice = insert_with_reference(
        ForeseeabilityNotice.reference,
        lambda: next_numbered_reference(ForeseeabilityNotice.reference, f"FN-{year}-"),
        build,
    )
    record(actor, AuditAction.NOTICE_CREATED, notice, kind=notice.kind, region=notice.region_id)
    return notice


def update_notice(
    actor, notice: ForeseeabilityNotice, details: NoticeDetails, *, expected_version: int | None = None
) -> ForeseeabilityNotice:
    """Change a notice's facts, made from the version the person saw. A letter already frozen at service
    is never touched."""
    _check_not_anonymised(notice)
    check_version(notice, expected_version, conflict=StaleNotice, message=STALE_NOTICE_MESSAGE)
    _check_details(actor, details)
    _apply(notice, details)
    db.session.flush()
    record(actor, AuditAction.NOTICE_CHANGED, notice)
    return notice


def _check_service(notice: ForeseeabilityNotice, served_on: date | None, on: date) -> date:
    """What refuses a service, checked both when it is asked for and when it is done."""
    _check_not_anonymised(notice)
    if notice.status != NoticeStatus.DRAFT:
        raise NoticeError("This notice has already been served.", "served_on")
    if served_on is None:
        raise NoticeError("Enter the date the notice was served.", "served_on")
    if served_on > on:
        raise NoticeError("The date served cannot be in the future.", "served_on")
    return served_on


def request_service(
    actor, notice: ForeseeabilityNotice, served_on: date | None, *, on: date | None = None, language: str = "en"
) -> Job:
    """Ask for a draft to be served by a background job, which makes and freezes the letter
    (``serve_notice``). The date is checked now, on the same rules; asking again while that
    job waits, runs or has served the notice returns the same job."""
    served_on = _check_service(notice, served_on, on or today())
    return enqueue(
        "notices.serve",
        notice.id,
        served_on.isoformat(),
        *((language,) if language in LETTER_LANGUAGES and language != "en" else ()),
        requested_by=actor,
        subject=notice.reference,
        key=f"notices.serve:{notice.id}",
        result_url=page_path("notices.detail", ref=notice.reference),
    )


def serve_notice(
    actor, notice: ForeseeabilityNotice, served_on: date | None, *, on: date | None = None, language: str = "en"
) -> ForeseeabilityNotice:
    """Serve a draft: the response date is computed once, and the letter is frozen as served
    (its fixed words in ``language``: ``LETTER_LANGUAGES``)."""
    served_on = _check_service(notice, served_on, on or today())
    notice.served_on = served_on
    notice.response_due_on = add_working_days(served_on, response_working_days())
    notice.status = NoticeStatus.SERVED.value
    try:
        pdf = render_letter(notice, language=language)
    except PDFRenderError as error:
        # No letter, no service: the caller's rollback undoes the status set just above.
        raise NoticeError(
            f"The letter could not be made, so the notice was not served: {error}", "served_on"
        ) from error
    notice.letter_pdf = pdf
    notice.letter_sha256 = hashlib.sha256(pdf).hexdigest()
    notice.letter_frozen_at = utcnow()
    db.session.flush()
    record(
        actor,
        AuditAction.NOTICE_SERVED,
        notice,
        served_on=served_on.isoformat(),
        response_due_on=notice.response_due_on.isoformat(),
        letter_sha256=notice.letter_sha256,
    )
    return notice


def record_response(
    actor,
    notice: ForeseeabilityNotice,
    received_on: date | None,
    summary: str | None,
    outcome: str | None,
    *,
    on: date | None = None,
) -> ForeseeabilityNotice:
    """Management answered: the clock stops. Never before the notice was served."""
    _check_not_anonymised(notice)
    on = on or today()
    if notice.status == NoticeStatus.DRAFT or notice.served_on is None:
        raise NoticeError("A response can only be recorded once the notice has been served.", "received_on")
    if notice.response_received_on is not None:
        raise NoticeError("A response has already been recorded for this notice.", "received_on")
    if received_on is None:
        raise NoticeError("Enter the date the response was received.", "received_on")
    if received_on < notice.served_on:
        raise NoticeError(
            f"The response cannot be before the notice was served ({notice.served_on:%d %B %Y}).", "received_on"
        )
    if received_on > on:
        raise NoticeError("The date received cannot be in the future.", "received_on")
    if outcome and not NoticeOutcome.has_value(outcome):
        raise NoticeError("Choose an outcome from the list.", "outcome")
    notice.response_received_on = received_on
    notice.response_summary = summary or ""
    if outcome:
        notice.outcome = outcome
    if notice.status == NoticeStatus.SERVED:
        notice.status = NoticeStatus.RESPONDED.value
    db.session.flush()
    record(
        actor,
        AuditAction.NOTICE_RESPONSE_RECORDED,
        notice,
        received_on=received_on.isoformat(),
        outcome=outcome or None,
    )
    return notice


def next_escalation_steps(notice: ForeseeabilityNotice) -> list[str]:
    """The one rung above the highest already raised (none at the top): the ladder is climbed
    in order, never skipping a rung."""
    steps = [step.value for step in EscalationStep]
    raised = [steps.index(e.step) for e in notice.escalations if e.step in steps]
    return steps[(max(raised) + 1) if raised else 0 :][:1]


def escalate_notice(
    actor,
    notice: ForeseeabilityNotice,
    step: str | None,
    raised_on: date | None,
    note: str | None = "",
    *,
    on: date | None = None,
    automatic: bool = False,
) -> NoticeEscalation:
    """Climb the ladder to its next rung (never skipping one); each step is due a number of
    working days after it is raised. It goes on the notice, on its case's timeline and in the
    audit log, and the rep (when someone else took the step) and the region's officials are told.
    ``automatic``: taken by the daily run, because the running deadline passed unanswered."""
    _check_not_anonymised(notice)
    on = on or today()
    if notice.status not in (NoticeStatus.SERVED, NoticeStatus.RESPONDED, NoticeStatus.ESCALATED):
        raise NoticeError("Only a served notice can be escalated.", "step")
    if step not in next_escalation_steps(notice):
        following = next_escalation_steps(notice)
        if not following:
            raise NoticeError("This notice is already at the top of the ladder (grievance).", "step")
        raise NoticeError(
            f"Escalate one rung at a time: the next step is {EscalationStep.label_of(following[0]).lower()}.", "step"
        )
    if raised_on is None or notice.served_on is None or raised_on < notice.served_on:
        raise NoticeError("A step cannot be raised before the notice was served.", "raised_on")
    if raised_on > on:
        raise NoticeError("The date cannot be in the future.", "raised_on")
    escalation = NoticeEscalation(
        notice=notice,
        step=step,
        raised_on=raised_on,
        due_on=add_working_days(raised_on, response_working_days()),
        note=note or "",
        created_by_id=actor.id if actor else None,
        is_automatic=automatic,
    )
    db.session.add(escalation)
    notice.status = NoticeStatus.ESCALATED.value
    if step == EscalationStep.GRIEVANCE:
        notice.outcome = NoticeOutcome.GRIEVANCE_LODGED.value
    elif step == EscalationStep.HEALTH_SAFETY_COMMITTEE and notice.outcome != NoticeOutcome.GRIEVANCE_LODGED:
        notice.outcome = NoticeOutcome.ESCALATED_HEALTH_SAFETY.value
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # the same step, recorded by someone else at the same moment
        raise NoticeError("This step was recorded by someone else just now.", "step") from None
    record(
        actor,
        AuditAction.NOTICE_ESCALATED,
        notice,
        step=step,
        due_on=escalation.due_on.isoformat(),
        automatic=automatic,
    )
    _escalation_on_timeline(actor, notice, escalation)
    _tell_escalated(actor, notice, escalation)
    return escalation


def escalation_text(notice: ForeseeabilityNotice, escalation: NoticeEscalation) -> str:
    """References, rungs and dates only: this goes to inboxes, e-mails and a case's timeline."""
    values = {
        "ref": notice.reference,
        "step": gettext(escalation.step_label).lower(),
        "day": f"{escalation.due_on:%a %-d %b %Y}",
    }
    if escalation.is_automatic:
        return gettext(
            "Notice %(ref)s escalated to %(step)s by the daily run, as no response came; due %(day)s.", **values
        )
    return gettext("Notice %(ref)s escalated to %(step)s; due %(day)s.", **values)


def _escalation_on_timeline(actor, notice: ForeseeabilityNotice, escalation: NoticeEscalation) -> None:
    if notice.case is not None and notice.case.anonymised_on is None:
        add_timeline_entry(
            notice.case, actor, EntryKind.NOTICE, escalation_text(notice, escalation), escalation.raised_on
        )


def _tell_escalated(actor, notice: ForeseeabilityNotice, escalation: NoticeEscalation) -> None:
    """The rep and the region's officials, each once; not the person who took the step."""
    people = [notice.assigned_rep, *officials_for_region(notice.region_id)]
    notify_all(
        [person for person in people if person is not None and (actor is None or person.id != actor.id)],
        NotificationKind.NOTICE_ESCALATED,
        escalation_text(notice, escalation),
        reference=notice.reference,
        url=f"/notices/{notice.reference}",
        key=f"escalated:{notice.id}:{escalation.step}",
        soon=not escalation.is_automatic,  # the daily run sends its own e-mails at its end
    )


def resolve_notice(actor, notice: ForeseeabilityNotice, outcome: str) -> ForeseeabilityNotice:
    """Close a notice that was answered or escalated, with its outcome."""
    _check_not_anonymised(notice)
    if notice.status not in (NoticeStatus.RESPONDED, NoticeStatus.ESCALATED):
        raise NoticeError("Only a notice that was answered or escalated can be resolved.", "outcome")
    if not NoticeOutcome.has_value(outcome):
        raise NoticeError("Choose an outcome from the list.", "outcome")
    notice.outcome = outcome
    notice.status = NoticeStatus.RESOLVED.value
    db.session.flush()
    record(actor, AuditAction.NOTICE_RESOLVED, notice, outcome=outcome)
    return notice


# --- the letter -----------------------------------------------------------------------------


def letter_context(notice: ForeseeabilityNotice, on: date | None = None, language: str = "en") -> dict[str, Any]:
    """Plain values for the letter template (no live ORM objects reach the renderer)."""
    served_on = notice.served_on or on or today()
    due_on = notice.response_due_on or add_working_days(served_on, response_working_days())
    return {
        "reference": notice.reference,
        "is_draft": notice.is_draft,
        "is_collective": notice.is_collective,
        "signatory_count": notice.signatory_count,
        "served_to_name": notice.served_to_name,
        "served_to_role": notice.served_to_role,
        "region": notice.region.name,
        "unit": notice.unit.name if notice.unit else None,
        "wmt_percent": format_wmt(notice.wmt_percent),
        "caseload": notice.caseload,
        "concerns": notice.concern_labels,
        "concerns_detail": notice.concerns_detail,
        "letter_wording": notice.letter_wording,
        "served_on": served_on,
        "response_due_on": due_on,
        "working_days": response_working_days(),
        "union_name": current_app.config["UNION_NAME"],
        "union_full_name": current_app.config["UNION_FULL_NAME"],
        "html_lang": LETTER_LANGUAGES.get(language, LETTER_LANGUAGES["en"])[0],
    }


# The languages a letter's own words can be in (the rep's wording, when given, stays theirs):
# code -> (HTML lang, Babel locale, what the choice is called). "both" is the Welsh letter and
# then the English one, from a new page, as Welsh public bodies send both.
LETTER_LANGUAGES: dict[str, tuple[str, str, str]] = {
    "en": ("en-GB", "en_GB", N_("English")),
    "cy": ("cy", "cy", N_("Welsh")),
    "both": ("cy", "cy", N_("Welsh and English")),
}


def render_letter(notice: ForeseeabilityNotice, on: date | None = None, language: str = "en") -> bytes:
    """The letter as a PDF, its fixed words and dates in ``language`` whatever the page's own."""
    language = language if language in LETTER_LANGUAGES else "en"
    parts = []
    for part in ("cy", "en") if language == "both" else (language,):
        html_lang, locale, _name = LETTER_LANGUAGES[part]
        with force_locale(locale):
            # Rendered from this project's own template with autoescaping: markup, not text.
            html = Markup(render_template("notices/pdf/_letter_body.html", **letter_context(notice, on, part)))
            title = gettext("Foreseeability notice %(reference)s", reference=notice.reference)
        parts.append({"lang": html_lang, "html": html, "title": title})
    return render_pdf(
        "notices/pdf/letter.html",
        {
            "parts": parts,
            "title": " / ".join(part["title"] for part in parts),
            "reference": notice.reference,
            "html_lang": LETTER_LANGUAGES[language][0],
        },
    )


def letter_for_download(actor, notice: ForeseeabilityNotice, language: str = "en") -> bytes:
    """The frozen letter once served (unchanged, byte for byte); a fresh draft before that.
    An anonymised notice's letter is gone: a fresh one would pass for the letter served."""
    _check_not_anonymised(notice)
    frozen = notice.letter_pdf if notice.has_frozen_letter else None
    pdf = frozen if frozen is not None else render_letter(notice, language=language)
    record(actor, AuditAction.NOTICE_LETTER_PRINTED, notice, frozen=notice.has_frozen_letter)
    return pdf


def format_wmt(value: Decimal | None) -> str:
    if value is None:
        return ""
    value = Decimal(value)
    text = f"{value:.1f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"
    return f"{text} %"


# --- figures --------------------------------------------------------------------------------


@dataclass
class MonthFigures:
    region: str
    month: str  # "2026-03"
    served: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


def notices_served_by_region_month(region_ids: set[int] | None = None) -> list[MonthFigures]:
    """Notices served per region and calendar month, with how they ended so far.

    Outcomes count notices by their recorded outcome; ``awaiting`` counts those with none yet.
    Rows are sorted by month, then region. Drafts are never counted.
    """
    stmt = (
        select(Region.name, ForeseeabilityNotice.served_on, ForeseeabilityNotice.outcome)
        .join(Region, Region.id == ForeseeabilityNotice.region_id)
        .where(ForeseeabilityNotice.served_on.is_not(None))
    )
    if region_ids is not None:
        stmt = stmt.where(ForeseeabilityNotice.region_id.in_(region_ids))
    rows: dict[tuple[str, str], MonthFigures] = {}
    for region_name, served_on, outcome in db.session.execute(stmt):
        month = f"{served_on:%Y-%m}"
        row = rows.setdefault((month, region_name), MonthFigures(region=region_name, month=month))
        row.served += 1
        key = outcome or "awaiting"
        row.outcomes[key] = row.outcomes.get(key, 0) + 1
    return [rows[key] for key in sorted(rows)]


def served_by_month_series(rows: list[MonthFigures]) -> dict[str, list[tuple[date, Decimal]]]:
    """Per region, (first day of month, count served) points for a line chart; empty months count zero."""
    if not rows:
        return {}
    months = sorted({row.month for row in rows})
    first, last = date.fromisoformat(months[0] + "-01"), date.fromisoformat(months[-1] + "-01")
    every_month, current = [], first
    while current <= last:
        every_month.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    counts = {(row.region, row.month): row.served for row in rows}
    regions = sorted({row.region for row in rows})
    return {
        region: [(month, Decimal(counts.get((region, f"{month:%Y-%m}"), 0))) for month in every_month]
        for region in regions
    }


def served_by_region(rows: list[MonthFigures]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row.region] += row.served
    return dict(sorted(totals.items()))


# --- calendar feed --------------------------------------------------------------------------


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_token_for(user) -> CalendarToken | None:
    return db.session.scalar(select(CalendarToken).where(CalendarToken.user_id == user.id))


def new_calendar_token(actor) -> str:
    """Make (or replace) the user's secret feed address; the old address stops working at once."""
    token = secrets.token_urlsafe(32)
    existing = calendar_token_for(actor)
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
    db.session.add(CalendarToken(user_id=actor.id, token_sha256=_hash_token(token)))
    db.session.flush()
    record(actor, AuditAction.CALENDAR_TOKEN_CHANGED, ("users", str(actor.id)), change="created")
    return token


def revoke_calendar_token(actor) -> bool:
    existing = calendar_token_for(actor)
    if existing is None:
        return False
    db.session.delete(existing)
    db.session.flush()
    record(actor, AuditAction.CALENDAR_TOKEN_CHANGED, ("users", str(actor.id)), change="revoked")
    return True


def user_for_calendar_token(token: str):
    """The active user a feed token belongs to, or None."""
    if not token or len(token) > 128:
        return None
    found = db.session.scalar(select(CalendarToken).where(CalendarToken.token_sha256 == _hash_token(token)))
    if found is None or not found.user.is_active:
        return None
    return found.user


def calendar_notices(user) -> list[ForeseeabilityNotice]:
    """Notices whose deadlines belong in this user's calendar: assigned to them, in their regions."""
    stmt = (
        scope_to_regions(
            select(ForeseeabilityNotice).where(
                ForeseeabilityNotice.status.in_((*OPEN_STATUSES, NoticeStatus.RESPONDED.value))
            ),
            ForeseeabilityNotice.region_id,
            user,
        )
        .options(selectinload(ForeseeabilityNotice.escalations))
        .order_by(ForeseeabilityNotice.reference)
    )
    if user.is_rep:
        stmt = stmt.where(ForeseeabilityNotice.assigned_rep_id == user.id)
    return list(db.session.scalars(stmt))
