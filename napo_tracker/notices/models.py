"""Foreseeability notices: what a member or a team served on management, and what came back."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..crypto import EncryptedBytes, EncryptedText
from ..extensions import Model, db
from ..kernel.clock import utcnow
from ..kernel.labels import N_, LabelledEnum

if TYPE_CHECKING:
    from ..accounts.models import User
    from ..cases.models import Case, Member
    from ..regions.models import Region, Unit


class NoticeStatus(LabelledEnum):
    DRAFT = "draft", N_("Draft")
    SERVED = "served", N_("Served")
    RESPONDED = "responded", N_("Responded")
    RESOLVED = "resolved", N_("Resolved")
    ESCALATED = "escalated", N_("Escalated")


class NoticeKind(LabelledEnum):
    INDIVIDUAL = "individual", N_("Individual (one member)")
    COLLECTIVE = "collective", N_("Collective (a team)")


class Concern(LabelledEnum):
    """The concerns checklist, in the order the letter lists them."""

    CASELOAD_BEYOND_CAPACITY = "caseload_beyond_capacity", N_("Caseload beyond capacity")
    UNALLOCATED_CASES = "unallocated_cases", N_("Unallocated cases")
    PROTECTED_CASELOAD_BREACH = "protected_caseload_breach", N_("Protected caseload breached")
    UNTRAINED_HIGH_RISK = "untrained_high_risk", N_("High-risk cases held by staff not trained for them")
    NO_COVER = "no_cover", N_("No cover for leave or sickness")
    NO_TIME_FOR_RISK_ASSESSMENT = "no_time_for_risk_assessment", N_("No time to complete risk assessments")


class NoticeOutcome(LabelledEnum):
    WORKLOAD_REDUCED = "workload_reduced", N_("Workload reduced")
    PARTLY_REDUCED = "partly_reduced", N_("Workload partly reduced")
    NO_ACTION = "no_action", N_("No action taken")
    ESCALATED_HEALTH_SAFETY = "escalated_health_safety", N_("Escalated to health and safety")
    GRIEVANCE_LODGED = "grievance_lodged", N_("Grievance lodged")


class EscalationStep(LabelledEnum):
    """The escalation ladder, lowest rung first."""

    LINE_MANAGER = "line_manager", N_("Line manager")
    SENIOR_MANAGER = "senior_manager", N_("Senior manager")
    HEALTH_SAFETY_COMMITTEE = "health_safety_committee", N_("Regional health and safety committee")
    GRIEVANCE = "grievance", N_("Grievance")


MAX_WMT_PERCENT = 400

# The members a collective notice names (optional: the signatory count is what the letter states).
notice_members = Table(
    "notice_members",
    db.metadata,
    Column("notice_id", ForeignKey("foreseeability_notices.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
)


class ForeseeabilityNotice(Model):
    __tablename__ = "foreseeability_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default=NoticeKind.INDIVIDUAL.value)
    status: Mapped[str] = mapped_column(String(16), default=NoticeStatus.DRAFT.value, index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    # An individual notice's member; a collective one names its members (if any) in notice_members.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    signatory_count: Mapped[int] = mapped_column(Integer, default=1)
    served_to_name: Mapped[str] = mapped_column(String(120))
    served_to_role: Mapped[str] = mapped_column(String(120))
    wmt_percent: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    caseload: Mapped[int | None] = mapped_column(Integer)
    concerns: Mapped[list[str]] = mapped_column(JSON, default=list)
    concerns_detail: Mapped[str] = mapped_column(EncryptedText, default="")
    # The rep's own words for the body of the letter; empty means the standard wording.
    letter_wording: Mapped[str] = mapped_column(EncryptedText, default="")
    served_on: Mapped[date | None] = mapped_column(Date, index=True)
    # Computed once at service (working days) and stored, so lists filter and sort in SQL.
    response_due_on: Mapped[date | None] = mapped_column(Date, index=True)
    response_received_on: Mapped[date | None] = mapped_column(Date)
    response_summary: Mapped[str] = mapped_column(EncryptedText, default="")
    outcome: Mapped[str | None] = mapped_column(String(32))
    assigned_rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # The letter as served: frozen bytes (stored encrypted) and the SHA-256 of the PDF itself,
    # never re-rendered.
    letter_pdf: Mapped[bytes | None] = deferred(mapped_column(EncryptedBytes))
    letter_sha256: Mapped[str | None] = mapped_column(String(64))
    letter_frozen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Kept as facts only from this day: members, free text and the frozen letter gone.
    anonymised_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    region: Mapped[Region] = relationship()
    unit: Mapped[Unit | None] = relationship()
    case: Mapped[Case | None] = relationship()
    member: Mapped[Member | None] = relationship()
    named_members: Mapped[list[Member]] = relationship(secondary=notice_members, order_by="Member.id")
    assigned_rep: Mapped[User | None] = relationship(foreign_keys=[assigned_rep_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    escalations: Mapped[list[NoticeEscalation]] = relationship(
        back_populates="notice", order_by="NoticeEscalation.id", cascade="all, delete-orphan"
    )

    @property
    def status_label(self) -> str:
        return NoticeStatus.label_of(self.status)

    @property
    def kind_label(self) -> str:
        return NoticeKind.label_of(self.kind)

    @property
    def is_collective(self) -> bool:
        return self.kind == NoticeKind.COLLECTIVE

    @property
    def is_draft(self) -> bool:
        return self.status == NoticeStatus.DRAFT

    @property
    def has_frozen_letter(self) -> bool:
        return self.letter_sha256 is not None

    @property
    def concern_labels(self) -> list[str]:
        chosen = set(self.concerns or [])
        return [concern.label for concern in Concern if concern in chosen]

    @property
    def outcome_label(self) -> str | None:
        return NoticeOutcome.label_of(self.outcome) if self.outcome else None

    @property
    def current_escalation(self) -> NoticeEscalation | None:
        return self.escalations[-1] if self.escalations else None

    def __str__(self) -> str:
        return self.reference


class NoticeEscalation(Model):
    """One rung of the escalation ladder, raised on a day and due a number of working days later."""

    __tablename__ = "notice_escalations"
    __table_args__ = (UniqueConstraint("notice_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("foreseeability_notices.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(32))
    raised_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(EncryptedText, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Moved by the daily escalation run (the rung before it went unanswered), not by a person.
    is_automatic: Mapped[bool] = mapped_column(default=False)

    notice: Mapped[ForeseeabilityNotice] = relationship(back_populates="escalations")

    @property
    def step_label(self) -> str:
        return EscalationStep.label_of(self.step)


class NoticeReminder(Model):
    """A reminder already e-mailed to a rep about a notice on a day: running twice sends nothing new."""

    __tablename__ = "notice_reminders"
    __table_args__ = (UniqueConstraint("user_id", "notice_id", "sent_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("foreseeability_notices.id", ondelete="CASCADE"), index=True)
    sent_on: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CalendarToken(Model):
    """A rep's private calendar feed: only the SHA-256 of the secret is stored."""

    __tablename__ = "notice_calendar_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship()
