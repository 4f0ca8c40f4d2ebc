"""Briefings for MPs, the press, members and the employer, and the question bank they draw on."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from ..kernel import clock
from ..kernel.clock import utcnow
from ..kernel.labels import N_, LabelledEnum
from ..testimonies.models import Testimony

if TYPE_CHECKING:
    from ..accounts.models import User


class Audience(LabelledEnum):
    MPS = "mps", N_("MPs and peers")
    PRESS = "press", N_("Press")
    MEMBERS = "members", N_("Members")
    EMPLOYER = "employer", N_("Employer")


class BriefingStatus(LabelledEnum):
    DRAFT = "draft", N_("Draft")
    PUBLISHED = "published", N_("Published")
    WITHDRAWN = "withdrawn", N_("Withdrawn")


class SectionKind(LabelledEnum):
    INTRODUCTION = "introduction", N_("Introduction")
    REGIONAL_EVIDENCE = "regional_evidence", N_("Regional evidence")
    RISKS = "risks", N_("Risks")
    RECRUITMENT_RETENTION = "recruitment_retention", N_("Recruitment and retention")
    STAFF_TESTIMONIES = "staff_testimonies", N_("Staff testimonies")
    WHAT_NEXT = "what_next", N_("What next?")
    FREE = "free", N_("Free section")


# Whose consent a quotation needs, by audience. A members' briefing is circulated widely and
# can reach anyone, so it needs the widest consent (press). The employer never sees a member's
# words: that is the one reader who could identify them and act against them.
CONSENT_FOR_AUDIENCE: dict[str, str | None] = {
    Audience.MPS: "mps",
    Audience.PRESS: "press",
    Audience.MEMBERS: "press",
    Audience.EMPLOYER: None,
}
# Audiences outside the union: internal-only evidence may not be cited to them.
PUBLIC_AUDIENCES = frozenset({Audience.MPS, Audience.PRESS, Audience.EMPLOYER})


def consent_audience(audience: str) -> str | None:
    """The consent ('mps' or 'press') a testimony needs to be quoted to ``audience``; None: never quoted."""
    return CONSENT_FOR_AUDIENCE.get(audience)


def may_cite_internal(audience: str) -> bool:
    """Internal-only evidence may be cited to the union's own members, to nobody outside."""
    return audience not in PUBLIC_AUDIENCES


# How large a briefing may grow: the forms, the services and the document all keep these.
MAX_SECTION_CHARS = 20_000
MAX_SECTIONS = 40
MAX_QUESTIONS = 30
MAX_TESTIMONIES = 30
MAX_CHART_REGIONS = 12

REFERENCE_PATTERN = re.compile(r"BRF[1-9][0-9]{0,5}-[0-9]{2}")


def normal_reference(reference: str) -> str | None:
    """A reference as stored (BRF14-26), or None when the text is not shaped like one."""
    reference = reference.strip().upper()
    return reference if REFERENCE_PATTERN.fullmatch(reference) else None


class Briefing(Model):
    __tablename__ = "briefings"
    __table_args__ = (UniqueConstraint("year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)  # BRF14-26
    year: Mapped[int] = mapped_column(Integer)  # two digits, as in the reference
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200), default="")
    subtitle: Mapped[str] = mapped_column(String(200), default="")
    audience: Mapped[str] = mapped_column(String(16), default=Audience.MPS.value)
    dated_on: Mapped[date] = mapped_column(Date)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    signatory_name: Mapped[str] = mapped_column(String(120), default="")
    signatory_title: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(16), default=BriefingStatus.DRAFT.value, index=True)
    # The draft being edited is this version; versions below it are frozen in briefing_versions.
    draft_version: Mapped[int] = mapped_column(Integer, default=1)
    # Bumped on every change, so a second writer working from a stale page is told.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    sections: Mapped[list[BriefingSection]] = relationship(
        back_populates="briefing", order_by="BriefingSection.position", cascade="all, delete-orphan"
    )
    questions: Mapped[list[BriefingQuestion]] = relationship(
        back_populates="briefing", order_by="BriefingQuestion.position", cascade="all, delete-orphan"
    )
    testimonies: Mapped[list[BriefingTestimony]] = relationship(
        back_populates="briefing", order_by="BriefingTestimony.position", cascade="all, delete-orphan"
    )
    published_versions: Mapped[list[BriefingVersion]] = relationship(
        back_populates="briefing", order_by="BriefingVersion.number", cascade="all, delete-orphan"
    )

    @property
    def audience_label(self) -> str:
        return Audience.label_of(self.audience)

    @property
    def latest_published(self) -> BriefingVersion | None:
        return self.published_versions[-1] if self.published_versions else None

    @property
    def needs_correction(self) -> bool:
        """Its latest published version quoted a testimony since withdrawn, and no corrected
        version has followed (a withdrawn briefing is sent to nobody, so needs none)."""
        latest = self.latest_published
        return latest is not None and latest.withdrawn_testimony_on is not None and not self.is_withdrawn

    @property
    def is_draft(self) -> bool:
        return self.status == BriefingStatus.DRAFT

    @property
    def is_published(self) -> bool:
        return self.status == BriefingStatus.PUBLISHED

    @property
    def is_withdrawn(self) -> bool:
        return self.status == BriefingStatus.WITHDRAWN

    @property
    def may_cite_internal(self) -> bool:
        return may_cite_internal(self.audience)

    @property
    def consent_needed(self) -> str | None:
        return consent_audience(self.audience)

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class BriefingSection(Model):
    __tablename__ = "briefing_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    briefing_id: Mapped[int] = mapped_column(ForeignKey("briefings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(32), default=SectionKind.FREE.value)
    heading: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown, rendered with raw HTML disabled
    # An optional chart block under the body: one metric for the chosen regions, either their
    # figures since a date (a time series) or the latest of each on or before ``chart_on``;
    # or else the evidence items the official picked (``chart_references``).
    chart_metric_code: Mapped[str | None] = mapped_column(String(64))
    chart_region_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    chart_since_on: Mapped[date | None] = mapped_column(Date)
    chart_on: Mapped[date | None] = mapped_column(Date)
    chart_references: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Numbers in the body an official marked "not a statistic" (each as checks.number_key gives it).
    plain_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)

    briefing: Mapped[Briefing] = relationship(back_populates="sections")

    @property
    def kind_label(self) -> str:
        return SectionKind.label_of(self.kind)

    @property
    def has_chart(self) -> bool:
        return bool(self.chart_metric_code or self.chart_references)


class Question(Model):
    """One question in the bank that officials curate for "Questions you may wish to ask"."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    times_used: Mapped[int] = mapped_column(Integer, default=0)
    last_used_on: Mapped[date | None] = mapped_column(Date)
    is_archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class BriefingQuestion(Model):
    """A question as it stands in one briefing: picked from the bank (and maybe reworded) or its own."""

    __tablename__ = "briefing_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    briefing_id: Mapped[int] = mapped_column(ForeignKey("briefings.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="SET NULL"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)

    briefing: Mapped[Briefing] = relationship(back_populates="questions")
    question: Mapped[Question | None] = relationship()


class BriefingTestimony(Model):
    """A testimony quoted in a briefing's staff testimonies section."""

    __tablename__ = "briefing_testimonies"
    __table_args__ = (UniqueConstraint("briefing_id", "testimony_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    briefing_id: Mapped[int] = mapped_column(ForeignKey("briefings.id", ondelete="CASCADE"), index=True)
    testimony_id: Mapped[int] = mapped_column(ForeignKey("testimonies.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    briefing: Mapped[Briefing] = relationship(back_populates="testimonies")


# The testimonies a published version quotes, kept with it (the draft's own list moves on), so
# a member's withdrawal finds every version that sent their words out.
version_testimonies = Table(
    "briefing_version_testimonies",
    db.metadata,
    Column("version_id", ForeignKey("briefing_versions.id", ondelete="CASCADE"), primary_key=True),
    Column("testimony_id", ForeignKey("testimonies.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class BriefingVersion(Model):
    """A published version, frozen: the bytes sent out never change after publishing. The one
    exception is a member's withdrawal of a testimony it quotes: then the bytes are erased (the
    reference, date and SHA-256 of what was sent stay) and the version is no longer served."""

    __tablename__ = "briefing_versions"
    __table_args__ = (UniqueConstraint("briefing_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    briefing_id: Mapped[int] = mapped_column(ForeignKey("briefings.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(16))
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    html: Mapped[str] = mapped_column(Text, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    # The evidence references cited, kept so later edits of the draft cannot rewrite history.
    cited_references: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    briefing: Mapped[Briefing] = relationship(back_populates="published_versions")
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])
    quoted_testimonies: Mapped[list[Testimony]] = relationship(secondary=version_testimonies)

    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    # Days only: when a member withdrew a testimony this version quotes, when its stored bytes
    # were erased, and when officials were e-mailed about it (a daily run, so that no time of
    # day dates the member's withdrawal).
    withdrawn_testimony_on: Mapped[date | None] = mapped_column(Date)
    pdf_erased_on: Mapped[date | None] = mapped_column(Date)
    officials_told_on: Mapped[date | None] = mapped_column(Date)

    @property
    def is_erased(self) -> bool:
        return self.pdf_erased_on is not None

    @property
    def published_on(self) -> date:
        """The day it was published, in London (SQLite hands the moment back without its zone)."""
        moment = self.published_at
        return clock.today(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def briefing_by_reference(reference: str) -> Briefing | None:
    """The briefing with this reference (any case, spaces around it ignored); text not shaped
    like a reference never reaches the database."""
    normal = normal_reference(reference)
    if normal is None:
        return None
    return db.session.scalar(select(Briefing).where(Briefing.reference == normal))
