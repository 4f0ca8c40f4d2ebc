"""Anonymous testimonies: what members tell the union, and what may be quoted of it.

Nothing here identifies the person who wrote a testimony: no address, browser, account
or time of day is kept, only the day it arrived and the coarse facts they chose to give.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..regions.models import Region


class TestimonyStatus(StrEnum):
    __test__ = False  # not a pytest test class, despite the name

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


# What officials see, and what the member sees on the status page (rejected is "not used").
STATUS_LABELS = {
    TestimonyStatus.SUBMITTED: "Waiting for a decision",
    TestimonyStatus.APPROVED: "Approved",
    TestimonyStatus.REJECTED: "Rejected",
    TestimonyStatus.WITHDRAWN: "Withdrawn",
}
MEMBER_STATUS_LABELS = {
    TestimonyStatus.SUBMITTED: "Received: an official will read it soon",
    TestimonyStatus.APPROVED: "Approved: it may be quoted, in the words shown below, where you allowed it",
    TestimonyStatus.REJECTED: "Read, but not used",
    TestimonyStatus.WITHDRAWN: "Withdrawn: the union no longer holds your words",
}

GRADES: dict[str, str] = {
    "PO": "Probation officer (PO)",
    "PSO": "Probation service officer (PSO)",
    "PQiP": "Trainee (PQiP)",
    "NQO": "Newly qualified officer (NQO)",
    "SPO": "Senior probation officer (SPO)",
    "admin": "Administrative staff",
    "court": "Court staff",
    "family_court": "Family court staff",
    "other": "Another role",
}

SERVICE_BANDS: dict[str, str] = {
    "under_2": "Under 2 years",
    "2_5": "2 to 5 years",
    "5_10": "5 to 10 years",
    "10_20": "10 to 20 years",
    "over_20": "Over 20 years",
}

TOPICS: dict[str, str] = {
    "workload": "Workload",
    "unallocated_cases": "Unallocated cases",
    "protected_caseload": "Protected caseload",
    "risk": "Risk and public protection",
    "wellbeing": "Wellbeing and stress",
    "sfo_blame": "SFOs and blame culture",
    "recruitment": "Recruitment and retention",
    "pay": "Pay",
    "facilities": "Facilities",
    "it_systems": "IT systems",
    "other": "Other",
}

AUDIENCES: dict[str, str] = {"mps": "MPs", "press": "the press"}


class Testimony(db.Model):
    __tablename__ = "testimonies"
    __test__ = False  # not a pytest test class, despite the name

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    # The day only: a time of day could be matched against other logs.
    submitted_on: Mapped[date] = mapped_column(Date, index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="SET NULL"), index=True)
    grade: Mapped[str | None] = mapped_column(String(16))
    service_band: Mapped[str | None] = mapped_column(String(16))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    has_mps_consent: Mapped[bool] = mapped_column(default=False)
    has_press_consent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=TestimonyStatus.SUBMITTED.value, index=True)
    # Only the receipt code's keyed hash (HMAC): a copy of the database does not reveal codes.
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The member's own words: seen by officials only, erased after the decision.
    original_text: Mapped[str | None] = mapped_column(Text)
    original_erased_on: Mapped[date | None] = mapped_column(Date)
    # The official's redacted version: the only text that ever leaves moderation.
    public_text: Mapped[str | None] = mapped_column(Text)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    decided_on: Mapped[date | None] = mapped_column(Date, index=True)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    # Two officials (or an official and the withdrawing member) at once: the second is told.
    version: Mapped[int] = mapped_column()
    __mapper_args__ = {"version_id_col": version}

    region: Mapped[Region | None] = relationship()
    follow_ups: Mapped[list[FollowUp]] = relationship(
        back_populates="testimony", order_by="FollowUp.id", cascade="all, delete-orphan"
    )

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[TestimonyStatus(self.status)]

    @property
    def member_status_label(self) -> str:
        return MEMBER_STATUS_LABELS[TestimonyStatus(self.status)]

    @property
    def grade_label(self) -> str:
        return GRADES.get(self.grade or "", "Not given")

    @property
    def service_band_label(self) -> str:
        return SERVICE_BANDS.get(self.service_band or "", "Not given")

    @property
    def topic_labels(self) -> list[str]:
        return [TOPICS.get(code, code) for code in self.topics or []]

    @property
    def is_withdrawn(self) -> bool:
        return self.status == TestimonyStatus.WITHDRAWN

    @property
    def open_follow_ups(self) -> list[FollowUp]:
        return [f for f in self.follow_ups if f.answered_on is None]

    def may_quote_to(self, audience: str) -> bool:
        """The one consent rule: approved, not withdrawn, with a public text, and the member
        agreed to this audience ('mps' or 'press')."""
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience {audience!r}: use one of {sorted(AUDIENCES)}")
        if self.status != TestimonyStatus.APPROVED or not self.public_text:
            return False
        return self.has_mps_consent if audience == "mps" else self.has_press_consent

    def __str__(self) -> str:
        return self.reference


class FollowUp(db.Model):
    """An official's question to the member, and the member's answer given with the code."""

    __tablename__ = "testimony_follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    testimony_id: Mapped[int] = mapped_column(ForeignKey("testimonies.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text)
    asked_on: Mapped[date] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_on: Mapped[date | None] = mapped_column(Date)

    testimony: Mapped[Testimony] = relationship(back_populates="follow_ups")
