"""Anonymous testimonies: what members tell the union, and what may be quoted of it.

Nothing here identifies the person who wrote a testimony: no address, browser, account
or time of day is kept, only the day it arrived and the coarse facts they chose to give.
The member's own words, the questions put to them, their answers and a rejection's reason
are stored encrypted; the official's redacted public text, made to be quoted, is not.
"""

from __future__ import annotations

from datetime import date
from typing import Self

from sqlalchemy import JSON, ColumnElement, Date, ForeignKey, String, Text, and_
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto import EncryptedText
from ..extensions import Model
from ..kernel.labels import N_, LabelledEnum
from ..kernel.vocabulary import Grade
from ..regions.models import Region


class TestimonyStatus(LabelledEnum):
    """Where a testimony stands: ``label`` is what officials read, ``member_label`` what the
    member reads on the status page (a rejection is "read, but not used" to them)."""

    __test__ = False  # not a pytest test class, despite the name

    member_label: str

    # The defaults only let ``TestimonyStatus(value)`` type-check as the lookup it is.
    def __new__(cls, value: str, label: str | None = None, member_label: str = "") -> Self:
        member = LabelledEnum.__new_member__(cls, value, label)  # type: ignore[attr-defined]
        member.member_label = member_label
        return member

    SUBMITTED = "submitted", N_("Waiting for a decision"), N_("Received: an official will read it soon")
    APPROVED = (
        "approved",
        N_("Approved"),
        N_("Approved: it may be quoted, in the words shown below, where you allowed it"),
    )
    REJECTED = "rejected", N_("Rejected"), N_("Read, but not used")
    WITHDRAWN = "withdrawn", N_("Withdrawn"), N_("Withdrawn: your words are erased from our records")


# A member may hold none of the union's grades: testimonies alone offer "another role".
OTHER_GRADE = "other"
GRADE_CHOICES: list[tuple[str, str]] = [*Grade.choices(), (OTHER_GRADE, N_("Another role"))]
GRADE_LABELS: dict[str, str] = dict(GRADE_CHOICES)


class ServiceBand(LabelledEnum):
    """How long the member has worked in the service, in bands too coarse to identify anyone."""

    UNDER_2 = "under_2", N_("Under 2 years")
    FROM_2_TO_5 = "2_5", N_("2 to 5 years")
    FROM_5_TO_10 = "5_10", N_("5 to 10 years")
    FROM_10_TO_20 = "10_20", N_("10 to 20 years")
    OVER_20 = "over_20", N_("Over 20 years")


class Topic(LabelledEnum):
    """What a testimony is about: a fixed list, so testimonies can be counted by topic."""

    WORKLOAD = "workload", N_("Workload")
    UNALLOCATED_CASES = "unallocated_cases", N_("Unallocated cases")
    PROTECTED_CASELOAD = "protected_caseload", N_("Protected caseload")
    RISK = "risk", N_("Risk and public protection")
    WELLBEING = "wellbeing", N_("Wellbeing and stress")
    SFO_BLAME = "sfo_blame", N_("SFOs and blame culture")
    RECRUITMENT = "recruitment", N_("Recruitment and retention")
    PAY = "pay", N_("Pay")
    FACILITIES = "facilities", N_("Facilities")
    IT_SYSTEMS = "it_systems", N_("IT systems")
    OTHER = "other", N_("Other")


class QuoteAudience(LabelledEnum):
    """Whom a member may allow their words to be quoted to, each by its own consent."""

    MPS = "mps", N_("MPs")
    PRESS = "press", N_("the press")

    @classmethod
    def parse(cls, audience: str) -> QuoteAudience:
        """The audience named ``audience``; any other name is a programming error."""
        if not cls.has_value(audience):
            raise ValueError(f"unknown audience {audience!r}: use one of {[a.value for a in cls]}")
        return cls(audience)


class Testimony(Model):
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
    original_text: Mapped[str | None] = mapped_column(EncryptedText)
    original_erased_on: Mapped[date | None] = mapped_column(Date)
    # The official's redacted version: the only text that ever leaves moderation.
    public_text: Mapped[str | None] = mapped_column(Text)
    rejection_reason: Mapped[str | None] = mapped_column(EncryptedText)
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
        return TestimonyStatus(self.status).label

    @property
    def member_status_label(self) -> str:
        """What the member reads: a question asked, or an answer being read, says so."""
        if self.status == TestimonyStatus.SUBMITTED and self.follow_ups:
            if self.open_follow_ups:
                return N_("Read: an official has asked you a question, shown below")
            return N_("Read: an official is reading your answer")
        return TestimonyStatus(self.status).member_label

    @property
    def grade_label(self) -> str:
        return GRADE_LABELS.get(self.grade or "", "Not given")

    @property
    def service_band_label(self) -> str:
        return ServiceBand.label_of(self.service_band, "Not given")

    @property
    def topic_labels(self) -> list[str]:
        return [Topic.label_of(code) for code in self.topics or []]

    @property
    def is_submitted(self) -> bool:
        return self.status == TestimonyStatus.SUBMITTED

    @property
    def is_approved(self) -> bool:
        return self.status == TestimonyStatus.APPROVED

    @property
    def is_rejected(self) -> bool:
        return self.status == TestimonyStatus.REJECTED

    @property
    def is_withdrawn(self) -> bool:
        return self.status == TestimonyStatus.WITHDRAWN

    @property
    def open_follow_ups(self) -> list[FollowUp]:
        return [f for f in self.follow_ups if f.answered_on is None]

    # The consent rule, written once: the same method answers for one testimony in Python
    # and, on the class, gives the SQL criterion every list of quotable testimonies uses.

    @hybrid_method
    def has_consent_for(self, audience: str) -> bool:
        """The member allowed quotes to ``audience`` ('mps' or 'press')."""
        if QuoteAudience.parse(audience) is QuoteAudience.MPS:
            return self.has_mps_consent
        return self.has_press_consent

    @hybrid_method
    def may_quote_to(self, audience: str) -> bool:
        """The one consent rule: approved (so neither rejected nor withdrawn), with a public
        text, and the member agreed to this audience ('mps' or 'press')."""
        consented = self.has_consent_for(audience)
        return self.status == TestimonyStatus.APPROVED and bool(self.public_text) and consented

    @may_quote_to.expression
    @classmethod
    def _may_quote_to_criterion(cls, audience: str) -> ColumnElement[bool]:
        return and_(
            cls.status == TestimonyStatus.APPROVED.value,
            cls.public_text.is_not(None),
            cls.public_text != "",
            cls.has_consent_for(audience),
        )

    def __str__(self) -> str:
        return self.reference


class FollowUp(Model):
    """An official's question to the member, and the member's answer given with the code."""

    __tablename__ = "testimony_follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    testimony_id: Mapped[int] = mapped_column(ForeignKey("testimonies.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(EncryptedText)  # often quotes the member's words back
    asked_on: Mapped[date] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(EncryptedText)
    answered_on: Mapped[date | None] = mapped_column(Date)

    testimony: Mapped[Testimony] = relationship(back_populates="follow_ups")
