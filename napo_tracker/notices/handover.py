"""Hand-over: one rep's open cases and notices given to another rep of the same region in one
step, and each rep's caseload on one page.

The rule: every case and notice handed over is open, held by the rep handing over, within the
acting user's regions, and the rep taking it covers its region (an active rep of it); each is
handed over from the version the person saw. One item that breaks a rule refuses the whole
step (409 when someone changed one meanwhile), so a hand-over is never half done. Each case
gets its timeline entry and audit entry, as any reassignment does (``update_case``); each
notice its audit entry; the step its own entry with the references.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import func, select

from ..accounts.models import User, user_regions
from ..audit.models import AuditAction, record
from ..cases.models import LIVE_STATUSES, Case
from ..cases.services import get_case_for, rep_covers, update_case
from ..extensions import db
from ..kernel.errors import check_version
from ..kernel.ids import MAX_ID
from ..kernel.vocabulary import Role
from ..regions.scoping import RegionalUser, region_ids_for, scope_to_regions
from .models import ForeseeabilityNotice, NoticeStatus
from .services import STALE_NOTICE_MESSAGE, NoticeError, StaleNotice, get_notice_for

OPEN_NOTICE_STATUSES = tuple(s.value for s in NoticeStatus if s is not NoticeStatus.RESOLVED)
LIVE_CASE_STATUSES = tuple(s.value for s in LIVE_STATUSES)


class HandOverError(NoticeError):
    """A hand-over that breaks a rule: nothing of it is saved."""


@dataclass
class CaseloadLine:
    rep: User
    regions: str
    cases: int
    notices: int


@dataclass
class Caseload:
    rep: User
    cases: list[Case]
    notices: list[ForeseeabilityNotice]
    # The reps of the same regions who may take them over (the rep themself left out).
    colleagues: list[User]


def _reps(user: RegionalUser) -> dict[int, tuple[User, list[int]]]:
    """Active reps with the regions they cover, within the user's regions."""
    stmt = (
        select(User, user_regions.c.region_id)
        .join(user_regions, user_regions.c.user_id == User.id)
        .where(User.role == Role.REP.value, User.is_active.is_(True))
        .order_by(User.display_name, User.id)
    )
    reps: dict[int, tuple[User, list[int]]] = {}
    for rep, region_id in db.session.execute(scope_to_regions(stmt, user_regions.c.region_id, user)):
        reps.setdefault(rep.id, (rep, []))[1].append(region_id)
    return reps


def _open_cases(user: RegionalUser):
    stmt = select(Case).where(Case.status.in_(LIVE_CASE_STATUSES))
    return scope_to_regions(stmt, Case.region_id, user)


def _open_notices(user: RegionalUser):
    stmt = select(ForeseeabilityNotice).where(ForeseeabilityNotice.status.in_(OPEN_NOTICE_STATUSES))
    return scope_to_regions(stmt, ForeseeabilityNotice.region_id, user)


def caseloads(user: RegionalUser) -> list[CaseloadLine]:
    """Every rep in the user's regions with how many open cases and notices they hold there
    (two grouped statements, however many reps)."""
    from ..regions.models import Region

    reps = _reps(user)
    names: dict[int, str] = {rid: name for rid, name in db.session.execute(select(Region.id, Region.name))}
    by_case = _open_cases(user).with_only_columns(Case.assigned_rep_id, func.count()).group_by(Case.assigned_rep_id)
    case_counts = {rep_id: count for rep_id, count in db.session.execute(by_case)}
    by_notice = (
        _open_notices(user)
        .with_only_columns(ForeseeabilityNotice.assigned_rep_id, func.count())
        .group_by(ForeseeabilityNotice.assigned_rep_id)
    )
    notice_counts = {rep_id: count for rep_id, count in db.session.execute(by_notice)}
    return [
        CaseloadLine(
            rep, ", ".join(sorted(names[r] for r in regions)), case_counts.get(rid, 0), notice_counts.get(rid, 0)
        )
        for rid, (rep, regions) in reps.items()
    ]


def rep_caseload(user: RegionalUser, rep_id: int) -> Caseload:
    """One rep's open cases and notices within the user's regions, or 404 for someone who is
    not an active rep there."""
    reps = _reps(user)
    if not 0 < rep_id <= MAX_ID or rep_id not in reps:
        abort(404)
    rep, regions = reps[rep_id]
    cases = db.session.scalars(
        _open_cases(user).where(Case.assigned_rep_id == rep_id).order_by(Case.next_action_on, Case.id)
    ).all()
    notices = db.session.scalars(
        _open_notices(user)
        .where(ForeseeabilityNotice.assigned_rep_id == rep_id)
        .order_by(ForeseeabilityNotice.response_due_on, ForeseeabilityNotice.id)
    ).all()
    colleagues = [
        other for other_id, (other, others) in reps.items() if other_id != rep_id and set(others) & set(regions)
    ]
    return Caseload(rep, list(cases), list(notices), colleagues)


def hand_over(
    actor: User, from_rep_id: int, to_rep_id: int, *, cases: dict[str, int], notices: dict[str, int]
) -> tuple[list[str], list[str]]:
    """Give the open cases and notices named (reference -> the version the person saw) held by
    one rep to another rep of their region, all or none; returns the references handed over."""
    if not cases and not notices:
        raise HandOverError("Choose at least one case or notice to hand over.", "items")
    if from_rep_id == to_rep_id:
        raise HandOverError("Choose another rep to take them over.", "to_rep_id")
    taker = db.session.get(User, to_rep_id)
    if taker is None or not (region_ids_for(actor) is None or to_rep_id in _reps(actor)):
        raise HandOverError("Choose a rep of the region.", "to_rep_id")
    moved_cases: list[str] = []
    for reference, version in sorted(cases.items()):
        case = get_case_for(actor, reference)
        if case.assigned_rep_id != from_rep_id or case.status not in LIVE_CASE_STATUSES:
            raise HandOverError(f"{case.reference} is no longer an open case of this rep; reload the page.", "items")
        if not rep_covers(to_rep_id, case.region_id):
            raise HandOverError(
                f"{taker.display_name} is not a rep of {case.region.name}, where {case.reference} is.", "to_rep_id"
            )
        update_case(actor, case, expected_version=version, assigned_rep_id=to_rep_id)
        moved_cases.append(case.reference)
    moved_notices: list[str] = []
    for reference, version in sorted(notices.items()):
        notice = get_notice_for(actor, reference)
        if notice.assigned_rep_id != from_rep_id or notice.status not in OPEN_NOTICE_STATUSES:
            raise HandOverError(
                f"{notice.reference} is no longer an open notice of this rep; reload the page.", "items"
            )
        if not rep_covers(to_rep_id, notice.region_id):
            raise HandOverError(
                f"{taker.display_name} is not a rep of {notice.region.name}, where {notice.reference} is.", "to_rep_id"
            )
        check_version(notice, version, conflict=StaleNotice, message=STALE_NOTICE_MESSAGE)
        notice.assigned_rep_id = to_rep_id
        db.session.flush()
        record(actor, AuditAction.NOTICE_CHANGED, notice, fields=["assigned_rep_id"])
        moved_notices.append(notice.reference)
    record(
        actor,
        AuditAction.CASES_HANDED_OVER,
        ("users", from_rep_id),
        to_rep_id=to_rep_id,
        cases=moved_cases,
        notices=moved_notices,
    )
    return moved_cases, moved_notices
