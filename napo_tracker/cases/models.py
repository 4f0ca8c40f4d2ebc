"""Members, their cases, each case's timeline and attachments.

A member's identifying fields (name, number, e-mail, phone) are personal data: only
reps of the member's region and admins see them (``may_see_identity``); everyone else
sees the stable pseudonym. They are stored encrypted, as are a case's description and
outcome, its timeline and its attachments' names and files (``docs/privacy.md``); a member
is found by membership number through its keyed hash (``membership_number_hash``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import ngettext
from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..crypto import KEYED_HASH_OF, EncryptedText, keyed_hash
from ..extensions import Model
from ..kernel import clock
from ..kernel.clock import utcnow
from ..kernel.labels import N_, LabelledEnum
from ..kernel.vocabulary import Grade
from ..storage import STORED_FILE

if TYPE_CHECKING:
    from ..accounts.models import User
    from ..regions.models import Region, Unit


class CaseCategory(LabelledEnum):
    """What a case is about."""

    EXCESSIVE_WORKLOAD = "excessive_workload", N_("Excessive workload")
    UNALLOCATED_CASES = "unallocated_cases", N_("Unallocated cases")
    PROTECTED_CASELOAD_BREACH = "protected_caseload_breach", N_("Protected-caseload breach")
    INAPPROPRIATE_ALLOCATION = "inappropriate_allocation", N_("Inappropriate allocation")
    NO_COVER = "no_cover", N_("No cover for leave or sickness")
    FACILITIES = "facilities", N_("Facilities")
    IT_SYSTEMS = "it_systems", N_("IT systems")
    RELOCATION_TRAVEL = "relocation_travel", N_("Relocation and travel")
    SFO_INQUEST_SUPPORT = "sfo_inquest_support", N_("SFO / inquest support")
    DISCIPLINARY = "disciplinary", N_("Disciplinary / scapegoating")
    PAY = "pay", N_("Pay")
    RECRUITMENT_RETENTION = "recruitment_retention", N_("Recruitment and retention")
    CLINICAL_SUPERVISION = "clinical_supervision", N_("Clinical supervision")
    HEALTH_SAFETY = "health_safety", N_("Health and safety")


class CasePriority(LabelledEnum):
    LOW = "low", N_("Low")
    NORMAL = "normal", N_("Normal")
    HIGH = "high", N_("High")
    URGENT = "urgent", N_("Urgent")


# Risk flags are boolean columns on Case, not stored values: the list filter takes these
# column names only.
RISK_FLAGS: dict[str, str] = {
    "has_high_risk_cases": N_("Holds high or very-high risk of harm cases"),
    "has_mappa_cases": N_("Holds MAPPA cases"),
    "has_domestic_abuse_cases": N_("Holds domestic-abuse cases"),
    "has_protected_caseload_breach": N_("NQO or PQiP protected caseload breached"),
    "has_no_cover": N_("No cover for leave or sickness"),
}


class CaseStatus(LabelledEnum):
    OPEN = "open", N_("Open")
    IN_PROGRESS = "in_progress", N_("In progress")
    ESCALATED = "escalated", N_("Escalated")
    RESOLVED = "resolved", N_("Resolved")
    CLOSED = "closed", N_("Closed")
    REOPENED = "reopened", N_("Reopened")


# A case is "live" (counts as open work) in these states.
LIVE_STATUSES = (CaseStatus.OPEN, CaseStatus.IN_PROGRESS, CaseStatus.ESCALATED, CaseStatus.REOPENED)


class EntryKind(LabelledEnum):
    NOTE = "note", N_("Note")
    MEETING = "meeting", N_("Meeting")
    LETTER = "letter", N_("Letter sent")
    CALL = "call", N_("Call")
    STATUS = "status", N_("Status change")
    ASSIGNMENT = "assignment", N_("Re-assignment")
    ATTACHMENT = "attachment", N_("Attachment")
    DEADLINE = "deadline", N_("Deadline")
    NOTICE = "notice", N_("Notice escalated")


# What a person may log by hand; the others are written by the services.
MANUAL_ENTRY_KINDS = (EntryKind.NOTE, EntryKind.MEETING, EntryKind.LETTER, EntryKind.CALL)


class Member(Model):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(EncryptedText)
    membership_number: Mapped[str | None] = mapped_column(EncryptedText)
    # What finds a member by number, and keeps numbers unique: set with the number itself.
    membership_number_hash: Mapped[str | None] = mapped_column(
        String(64), unique=True, info={KEYED_HASH_OF: "membership_number"}
    )
    email: Mapped[str | None] = mapped_column(EncryptedText)
    phone: Mapped[str | None] = mapped_column(EncryptedText)
    grade: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Erased at the member's request (or by the retention schedule): the identifying fields are
    # wiped, the row stays so that the pseudonym and the regional figures stay true.
    erased_on: Mapped[date | None] = mapped_column(Date)

    region: Mapped[Region] = relationship()
    unit: Mapped[Unit | None] = relationship()
    cases: Mapped[list[Case]] = relationship(back_populates="member", order_by="Case.id.desc()")

    @validates("membership_number")
    def _hash_membership_number(self, _key: str, number: str | None) -> str | None:
        self.membership_number_hash = keyed_hash(number) if number else None
        return number

    @property
    def is_erased(self) -> bool:
        return self.erased_on is not None

    @property
    def pseudonym(self) -> str:
        """Stable, and says nothing about who the member is."""
        return f"Member M-{self.id:04d}"

    @property
    def grade_label(self) -> str:
        return Grade.label_of(self.grade)

    def __str__(self) -> str:
        return self.pseudonym


class Case(Model):
    __tablename__ = "cases"
    __table_args__ = (
        # The home page reads each list per status (and per region for reps) from these, a few
        # entries each, and counts live cases from them without touching the table.
        Index("ix_cases_status_next_action", "status", "next_action_on", "region_id", "assigned_rep_id"),
        Index("ix_cases_region_status", "region_id", "status", "next_action_on", "assigned_rep_id"),
        Index("ix_cases_rep_status", "assigned_rep_id", "status", "region_id", "next_action_on"),
        # A region's most recently updated cases.
        Index("ix_cases_region_updated", "region_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(EncryptedText, default="")
    grade: Mapped[str | None] = mapped_column(String(16))
    wmt_percent: Mapped[int | None] = mapped_column(Integer)
    caseload: Mapped[int | None] = mapped_column(Integer)
    has_high_risk_cases: Mapped[bool] = mapped_column(default=False)
    has_mappa_cases: Mapped[bool] = mapped_column(default=False)
    has_domestic_abuse_cases: Mapped[bool] = mapped_column(default=False)
    has_protected_caseload_breach: Mapped[bool] = mapped_column(default=False)
    has_no_cover: Mapped[bool] = mapped_column(default=False)
    priority: Mapped[str] = mapped_column(String(16), default=CasePriority.NORMAL.value)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN.value)
    assigned_rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    next_action: Mapped[str | None] = mapped_column(String(200))
    next_action_on: Mapped[date | None] = mapped_column(Date, index=True)
    outcome: Mapped[str | None] = mapped_column(EncryptedText)
    # The member agreed that the facts (never who they are) may be used, anonymised, as evidence.
    has_evidence_consent: Mapped[bool] = mapped_column(default=False)
    opened_on: Mapped[date] = mapped_column(Date, index=True)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Kept as facts only from this day: free text, timeline text, attachments and the member gone.
    anonymised_on: Mapped[date | None] = mapped_column(Date)

    __mapper_args__ = {"version_id_col": version}

    region: Mapped[Region] = relationship()
    unit: Mapped[Unit | None] = relationship()
    member: Mapped[Member | None] = relationship(back_populates="cases")
    assigned_rep: Mapped[User | None] = relationship(foreign_keys=[assigned_rep_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    entries: Mapped[list[CaseEntry]] = relationship(
        back_populates="case",
        cascade="all, delete-orphan",
        order_by=lambda: (CaseEntry.happened_on.desc(), CaseEntry.created_at.desc(), CaseEntry.id.desc()),
    )
    attachments: Mapped[list[CaseAttachment]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseAttachment.uploaded_at.desc()"
    )

    @property
    def status_label(self) -> str:
        return CaseStatus.label_of(self.status)

    @property
    def category_label(self) -> str:
        return CaseCategory.label_of(self.category)

    @property
    def priority_label(self) -> str:
        return CasePriority.label_of(self.priority)

    @property
    def grade_label(self) -> str:
        return Grade.label_of(self.grade)

    @property
    def risk_labels(self) -> list[str]:
        return [label for flag, label in RISK_FLAGS.items() if getattr(self, flag)]

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    def is_overdue(self, today: date | None = None) -> bool:
        today = today or clock.today()
        return self.is_live and self.next_action_on is not None and self.next_action_on < today

    def __str__(self) -> str:
        return self.reference


class CaseEntry(Model):
    """One dated line of a case's timeline."""

    __tablename__ = "case_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    happened_on: Mapped[date] = mapped_column(Date)
    body: Mapped[str] = mapped_column(EncryptedText, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="entries")
    author: Mapped[User | None] = relationship()

    @property
    def kind_label(self) -> str:
        return EntryKind.label_of(self.kind)


class CaseAttachment(Model):
    """An uploaded file; its bytes live in the file store under ``stored_name``."""

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True, info=STORED_FILE)
    # File names often name the member ("J Smith fit note.pdf").
    original_name: Mapped[str] = mapped_column(EncryptedText)
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User | None] = relationship()


# --- deadlines ------------------------------------------------------------------------------


class DeadlineRule(LabelledEnum):
    """How a deadline type counts from its starting day."""

    WORKING_DAYS = "working_days", N_("Working days (weekends and England-and-Wales bank holidays skipped)")
    CALENDAR_DAYS = "calendar_days", N_("Calendar days")
    MONTHS_LESS_A_DAY = "months_less_a_day", N_("Months less a day")


class DeadlineType(Model):
    """A kind of deadline an admin defines: a grievance appeal, a hearing, a response to a representation."""

    __tablename__ = "deadline_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    rule: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(Integer)
    remind_days_before: Mapped[int] = mapped_column(Integer, default=3)  # calendar days; 0: on the day only
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def rule_label(self) -> str:
        return DeadlineRule.label_of(self.rule)

    @property
    def rule_text(self) -> str:
        """ "10 working days", "3 months less a day"."""
        if self.rule == DeadlineRule.WORKING_DAYS:
            return ngettext("%(num)d working day", "%(num)d working days", self.amount)
        if self.rule == DeadlineRule.CALENDAR_DAYS:
            return ngettext("%(num)d calendar day", "%(num)d calendar days", self.amount)
        if self.rule == DeadlineRule.MONTHS_LESS_A_DAY:
            return ngettext("%(num)d month less a day", "%(num)d months less a day", self.amount)
        return f"{self.amount} {self.rule}"  # a rule this code does not know: shown as stored

    def __str__(self) -> str:
        return self.name


class CaseDeadline(Model):
    """One dated deadline on a case, computed once from its type's rule and its starting day."""

    __tablename__ = "case_deadlines"
    __table_args__ = (Index("ix_case_deadlines_open_due", "met_on", "due_on", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    deadline_type_id: Mapped[int] = mapped_column(ForeignKey("deadline_types.id", ondelete="RESTRICT"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    met_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    case: Mapped[Case] = relationship()
    deadline_type: Mapped[DeadlineType] = relationship()

    @property
    def is_met(self) -> bool:
        return self.met_on is not None

    def state(self, on: date | None = None) -> str | None:
        """'overdue', 'due_today' or None (met, or not yet due)."""
        if self.met_on is not None:
            return None
        on = on or clock.today()
        if self.due_on < on:
            return "overdue"
        return "due_today" if self.due_on == on else None
