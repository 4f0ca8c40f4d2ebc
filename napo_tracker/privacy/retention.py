"""The retention schedule, applied: ``flask --app napo_tracker retention apply [--dry-run]``.

Each rule of the schedule (``schedule.py``, the setting ``NAPO_RETENTION_SCHEDULE``) names a
period; a record whose last activity is that long ago or more is due:

* ``closed_cases``: a closed case with no change, timeline entry or upload since the cutoff is
  anonymised (cases.services.anonymise_case); a member then left with no case, no notice and no
  open subject access request, recorded before the cutoff, is erased (privacy.erasure).
* ``testimony_originals``: a testimony decided before the cutoff, with no question asked or
  answered since, loses its original words and answers (the old ``testimonies purge``).
* ``resolved_notices``: a resolved notice with no change or escalation since the cutoff is
  anonymised: its member links, free text and stored letter go.
* ``idle_accounts``: an account not used since the cutoff is deactivated (never the last admin).
* ``audit_entries``: audit entries from before the cutoff are deleted (the one deletion the
  database triggers allow, ``audit.models.delete_entries_before``).

Sign-in throttle rows past their day are forgotten too. Everything due is changed in the one
transaction of the command; files of anonymised cases are removed only once it has committed.
A run that finds nothing due changes nothing, and writes nothing to the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from ..accounts import throttle
from ..accounts.models import LoginThrottle, User
from ..accounts.services import deactivate_idle, idle_accounts
from ..audit.models import AuditAction, AuditEvent, delete_entries_before, record
from ..cases.models import Case, CaseAttachment, CaseEntry, CaseStatus, Member
from ..cases.services import anonymise_case
from ..extensions import db
from ..kernel import clock
from ..kernel.clock import utcnow
from ..notices.models import ForeseeabilityNotice, NoticeEscalation, NoticeStatus, notice_members
from ..notices.services import anonymise_notice
from ..schedule import RULES, schedule
from ..testimonies.models import Testimony
from ..testimonies.services import erase_original, originals_due_for_erasure
from .erasure import erase_member
from .models import RequestStatus, SubjectAccessRequest

REASON = "the retention schedule"


def _start_of_day_after(cutoff: date) -> datetime:
    """The moment a record must be older than to be "last active on the cutoff day or before",
    in UTC (SQLite compares the stored wall-clock time)."""
    return datetime.combine(cutoff + timedelta(days=1), time.min, tzinfo=clock.UNION_TIME_ZONE).astimezone(UTC)


@dataclass
class Due:
    """What one rule will change on this run."""

    rule: str
    what: str
    cutoff: date
    records: list[Any] = field(default_factory=list)
    count: int = 0  # for rows not listed one by one (audit entries, throttle rows)

    @property
    def size(self) -> int:
        return len(self.records) or self.count

    def line(self) -> str:
        refs = [_ref(r) for r in self.records[:20]]
        more = f", and {len(self.records) - 20} more" if len(self.records) > 20 else ""
        listed = f": {', '.join(refs)}{more}" if refs else ""
        return f"{self.what} (last active on {self.cutoff:%Y-%m-%d} or before): {self.size}{listed}"


def _ref(item: Any) -> str:
    if isinstance(item, Member):
        return item.pseudonym
    if isinstance(item, User):
        return item.email
    return str(getattr(item, "reference", item))


@dataclass
class Plan:
    today: date
    dues: list[Due]

    @property
    def size(self) -> int:
        return sum(due.size for due in self.dues)

    def by_rule(self, what: str) -> Due:
        return next(due for due in self.dues if due.what == what)


def plan(today: date | None = None) -> Plan:
    """Everything the schedule makes due today, changing nothing."""
    today = today or clock.today()
    periods = schedule()
    cases_cutoff = periods["closed_cases"].before(today)
    notices_cutoff = periods["resolved_notices"].before(today)
    cases = _closed_cases_due(cases_cutoff)
    notices = _resolved_notices_due(notices_cutoff)
    accounts_cutoff = periods["idle_accounts"].before(today)
    audit_cutoff = periods["audit_entries"].before(today)
    forget_before = utcnow() - throttle.FORGET_AFTER
    dues = [
        Due("closed_cases", "closed cases to anonymise", cases_cutoff, cases),
        Due(
            "closed_cases",
            "members left with no case or notice, to erase",
            cases_cutoff,
            _members_left(cases_cutoff, cases, notices),
        ),
        Due("resolved_notices", "resolved notices to anonymise", notices_cutoff, notices),
        Due(
            "testimony_originals",
            "testimony originals to erase",
            periods["testimony_originals"].before(today),
            originals_due_for_erasure(today),
        ),
        Due("idle_accounts", "idle accounts to deactivate", accounts_cutoff, idle_accounts(accounts_cutoff)),
        Due(
            "audit_entries",
            "audit entries to delete",
            audit_cutoff,
            count=_count(AuditEvent, AuditEvent.occurred_at < _start_of_day_after(audit_cutoff)),
        ),
        Due(
            "",
            "sign-in throttle rows to forget",
            clock.today(forget_before),
            count=_count(LoginThrottle, LoginThrottle.last_failure_at < forget_before),
        ),
    ]
    return Plan(today, dues)


def _count(model: Any, *criteria: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*criteria)) or 0


def _closed_cases_due(cutoff: date) -> list[Case]:
    since = _start_of_day_after(cutoff)
    stmt = (
        select(Case)
        .where(
            Case.status == CaseStatus.CLOSED.value,
            Case.anonymised_on.is_(None),
            Case.closed_on <= cutoff,
            Case.updated_at < since,
            ~Case.entries.any(or_(CaseEntry.created_at >= since, CaseEntry.happened_on > cutoff)),
            ~Case.attachments.any(CaseAttachment.uploaded_at >= since),
        )
        .order_by(Case.reference)
    )
    return list(db.session.scalars(stmt))


def _resolved_notices_due(cutoff: date) -> list[ForeseeabilityNotice]:
    since = _start_of_day_after(cutoff)
    stmt = (
        select(ForeseeabilityNotice)
        .where(
            ForeseeabilityNotice.status == NoticeStatus.RESOLVED.value,
            ForeseeabilityNotice.anonymised_on.is_(None),
            ForeseeabilityNotice.updated_at < since,
            or_(ForeseeabilityNotice.served_on.is_(None), ForeseeabilityNotice.served_on <= cutoff),
            or_(
                ForeseeabilityNotice.response_received_on.is_(None),
                ForeseeabilityNotice.response_received_on <= cutoff,
            ),
            ~ForeseeabilityNotice.escalations.any(NoticeEscalation.created_at >= since),
        )
        .order_by(ForeseeabilityNotice.reference)
    )
    return list(db.session.scalars(stmt))


def _members_left(cutoff: date, cases: list[Case], notices: list[ForeseeabilityNotice]) -> list[Member]:
    """Members recorded before the cutoff who will hold no case, no notice and no open request
    once this run's cases and notices are anonymised."""
    since = _start_of_day_after(cutoff)
    going_cases = {case.id for case in cases}
    going_notices = {notice.id for notice in notices}
    candidates = db.session.scalars(
        select(Member).where(Member.erased_on.is_(None), Member.created_at < since).order_by(Member.id)
    )
    left = []
    for member in candidates:
        case_ids = set(db.session.scalars(select(Case.id).where(Case.member_id == member.id)))
        notice_ids = set(
            db.session.scalars(select(ForeseeabilityNotice.id).where(ForeseeabilityNotice.member_id == member.id))
        ) | set(db.session.scalars(select(notice_members.c.notice_id).where(notice_members.c.member_id == member.id)))
        open_request = db.session.scalar(
            select(SubjectAccessRequest.id).where(
                SubjectAccessRequest.member_id == member.id, SubjectAccessRequest.status == RequestStatus.OPEN.value
            )
        )
        if case_ids <= going_cases and notice_ids <= going_notices and open_request is None:
            left.append(member)
    return left


def apply(plan: Plan, *, progress: Callable[[int], Any] | None = None) -> dict[str, int]:
    """Change everything the plan lists, in the caller's transaction, and audit a summary.
    Returns what was changed, by what."""
    step = progress or (lambda _n: None)
    done: dict[str, int] = {}
    for due in plan.dues:
        if not due.size:
            continue
        if due.what == "closed cases to anonymise":
            files = 0
            for case in due.records:
                files += anonymise_case(None, case, reason=REASON)
                step(1)
            done["attachments_deleted"] = files
        elif due.what.startswith("members left"):
            for member in due.records:
                erase_member(None, member, account="keep", reason=REASON)
                step(1)
        elif due.what == "resolved notices to anonymise":
            for notice in due.records:
                anonymise_notice(None, notice, reason=REASON)
                step(1)
        elif due.what == "testimony originals to erase":
            for testimony in due.records:
                assert isinstance(testimony, Testimony)
                erase_original(None, testimony, plan.today)
                step(1)
        elif due.what == "idle accounts to deactivate":
            for user in due.records:
                deactivate_idle(user)
                step(1)
        elif due.what == "audit entries to delete":
            due.count = delete_entries_before(_start_of_day_after(due.cutoff))
            step(due.count)
        elif due.what == "sign-in throttle rows to forget":
            due.count = throttle.forget_old()
            step(due.count)
        done[due.what] = due.size
    if done:
        record(None, AuditAction.RETENTION_APPLIED, None, **{_key(what): n for what, n in done.items()})
    return done


def _key(what: str) -> str:
    return what.replace(" ", "_").replace(",", "")


def describe_schedule() -> str:
    return "; ".join(f"{rule} {period}" for rule, period in schedule().items() if rule in RULES)
