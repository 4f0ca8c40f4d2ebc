"""Workload evidence: metric definitions and the figures and statements kept against them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    func,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from ..kernel.clock import utcnow
from ..kernel.labels import N_, LabelledEnum

if TYPE_CHECKING:
    from ..accounts.models import User
    from ..regions.models import Region, Unit


class ExactDecimal(TypeDecorator):
    """NUMERIC(18, 4) that also accepts a value given as text ("24.43"), exactly.

    Values are validated to stay below a billion, so that SQLite (which keeps NUMERIC as a
    double) round-trips them; PostgreSQL keeps them exactly.
    """

    impl = Numeric(18, 4)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, str):
            return Decimal(value)
        return value


VALUE_TYPE = ExactDecimal()
MAX_ABS_VALUE = Decimal("1000000000")
MAX_DECIMAL_PLACES = 4


class MetricUnit(LabelledEnum):
    PERCENT = "percent", N_("per cent")
    COUNT = "count", N_("count")
    FTE = "fte", N_("full-time equivalent (FTE)")
    RATIO = "ratio", N_("ratio (staff per manager, cases per officer)")
    DAYS = "days", N_("days")


class SourceType(LabelledEnum):
    MEMBER_REPORT = "member_report", N_("Member report")
    REP_SURVEY = "rep_survey", N_("Rep survey")
    UNION_SURVEY = "union_survey", N_("Union survey")
    MANAGEMENT_DATA = "management_data", N_("Management data")
    FOI_RESPONSE = "foi_response", N_("FOI response")
    PARLIAMENTARY_ANSWER = "parliamentary_answer", N_("Parliamentary answer")
    INSPECTORATE_REPORT = "inspectorate_report", N_("Inspectorate report")
    PRESS = "press", N_("Press")
    OTHER = "other", N_("Other")


class Visibility(LabelledEnum):
    INTERNAL = "internal", N_("Internal: for union use only")
    PUBLIC = "public", N_("Public: may be cited in briefings")


class Level(LabelledEnum):
    """Where a figure is about: the whole service, a region, or a unit inside a region."""

    NATIONAL = "national", N_("National")
    REGION = "region", N_("Region")
    UNIT = "unit", N_("Unit (PDU, office, team)")


ALL_LEVELS = "national,region,unit"

# Sources that are already public: a figure from one of them is never withheld, whatever it rests on.
PUBLIC_SOURCES = frozenset(
    {
        SourceType.PARLIAMENTARY_ANSWER.value,
        SourceType.INSPECTORATE_REPORT.value,
        SourceType.FOI_RESPONSE.value,
        SourceType.PRESS.value,
    }
)

# The stable metrics whose figures add up across places (a regional total is what a briefing quotes).
ADDITIVE_CODES = frozenset(
    {
        "unallocated_cases",
        "spo_name_only_cases",
        "vacancies",
        "staff_in_post",
        "leavers",
        "leavers_within_2y",
        "joiners",
        "sfo_count",
        "notices_served",
    }
)


# The stable metrics: (code, label, unit, is_higher_worse, is_individual, is_headline, warn_at,
# alert_at, severe_at, description). Migration 0005 seeds a frozen copy of this list (0012 adds
# joiners); the demo loader creates any that is missing (services.ensure_standard_metrics).
# Their codes never change; admins may edit everything else about them.
STANDARD_METRICS = [
    (
        "wmt_percent",
        "WMT % (individual)",
        "percent",
        True,
        True,
        False,
        100,
        120,
        150,
        "One person's workload as a share of the capacity the workload management tool allows.",
    ),
    (
        "wmt_percent_avg",
        "Average WMT %",
        "percent",
        True,
        False,
        True,
        100,
        120,
        150,
        "The average workload management tool figure of a team, unit or region.",
    ),
    (
        "staff_over_100_pct",
        "Share of staff over 100 % WMT",
        "percent",
        True,
        False,
        True,
        None,
        None,
        None,
        "Per cent of staff whose workload is above full capacity.",
    ),
    (
        "staff_over_120_pct",
        "Share of staff over 120 % WMT",
        "percent",
        True,
        False,
        True,
        None,
        None,
        None,
        "Per cent of staff above 120 % of capacity.",
    ),
    (
        "staff_over_150_pct",
        "Share of staff over 150 % WMT",
        "percent",
        True,
        False,
        True,
        None,
        None,
        None,
        "Per cent of staff above 150 % of capacity.",
    ),
    ("caseload", "Caseload per officer", "count", True, False, True, None, None, None, "Cases held by one officer."),
    (
        "unallocated_cases",
        "Unallocated cases",
        "count",
        True,
        False,
        True,
        None,
        None,
        None,
        "Cases with no allocated offender manager.",
    ),
    (
        "spo_name_only_cases",
        "Cases allocated to an SPO in name only",
        "count",
        True,
        False,
        False,
        None,
        None,
        None,
        "Cases nominally held by a senior probation officer with nobody working them.",
    ),
    (
        "vacancies",
        "Vacancies (FTE)",
        "fte",
        True,
        False,
        True,
        None,
        None,
        None,
        "Unfilled posts, in full-time equivalents; the grade says which posts.",
    ),
    (
        "staff_in_post",
        "Staff in post (FTE)",
        "fte",
        False,
        False,
        False,
        None,
        None,
        None,
        "People in post, in full-time equivalents.",
    ),
    (
        "spo_span_of_control",
        "SPO span of control",
        "ratio",
        True,
        False,
        False,
        10,
        15,
        20,
        "Staff managed by one senior probation officer; it should be 10 or fewer.",
    ),
    (
        "sickness_days",
        "Sickness absence (days per person)",
        "days",
        True,
        False,
        False,
        None,
        None,
        None,
        "Working days lost to sickness per person per year.",
    ),
    ("leavers", "Leavers", "count", True, False, False, None, None, None, "Staff who left in the period."),
    (
        "joiners",
        "Joiners (appointments)",
        "count",
        False,
        False,
        False,
        None,
        None,
        None,
        "Staff appointed in the period; the grade says to which posts.",
    ),
    (
        "leavers_within_2y",
        "Leavers within two years of qualifying",
        "count",
        True,
        False,
        False,
        None,
        None,
        None,
        "Newly qualified staff who left within two years.",
    ),
    (
        "sfo_count",
        "Serious further offences (SFOs)",
        "count",
        True,
        False,
        False,
        None,
        None,
        None,
        "Serious further offences under review.",
    ),
    (
        "notices_served",
        "Foreseeability notices served",
        "count",
        True,
        False,
        False,
        None,
        None,
        None,
        "Foreseeability notices served on management.",
    ),
]


STANDARD_CODES = frozenset(row[0] for row in STANDARD_METRICS)


class ImportBatch(Model):
    """One imported file: who, when, its name, SHA-256 and rows; verified or reverted as a whole."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)  # IMP-0001
    filename: Mapped[str] = mapped_column(String(200), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    first_reference: Mapped[str | None] = mapped_column(String(16))
    last_reference: Mapped[str | None] = mapped_column(String(16))
    # Chosen for the whole file on the form or as command-line flags.
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.INTERNAL.value)
    source_type: Mapped[str | None] = mapped_column(String(32))
    is_verified: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reverted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reverted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    @property
    def is_reverted(self) -> bool:
        return self.reverted_at is not None

    @property
    def visibility_label(self) -> str:
        return Visibility.label_of(self.visibility)


class Metric(Model):
    """What a figure measures. Codes are stable: imports, the API and briefings use them."""

    __tablename__ = "metrics"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(120), unique=True)
    unit: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    is_higher_worse: Mapped[bool] = mapped_column(default=True)
    # A figure about one person (an individual's WMT %): counts as one reporter.
    is_individual: Mapped[bool] = mapped_column(default=False)
    is_headline: Mapped[bool] = mapped_column(default=False)
    # Figures of different places add up to a meaningful total (vacancies, leavers, …).
    is_additive: Mapped[bool] = mapped_column(default=False)
    # The levels figures of this metric are kept at: comma-separated Level values.
    levels: Mapped[str] = mapped_column(String(40), default=ALL_LEVELS)
    # Colour bands (e.g. WMT 100 / 120 / 150); any may be empty.
    warn_at: Mapped[Decimal | None] = mapped_column(VALUE_TYPE)
    alert_at: Mapped[Decimal | None] = mapped_column(VALUE_TYPE)
    severe_at: Mapped[Decimal | None] = mapped_column(VALUE_TYPE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def thresholds(self) -> tuple[Decimal, ...]:
        return tuple(t for t in (self.warn_at, self.alert_at, self.severe_at) if t is not None)

    @property
    def unit_label(self) -> str:
        return MetricUnit.label_of(self.unit)

    @property
    def level_values(self) -> list[str]:
        return [level for level in (self.levels or ALL_LEVELS).split(",") if Level.has_value(level)]

    def has_level(self, level: str) -> bool:
        return level in self.level_values

    @property
    def is_standard(self) -> bool:
        """One of the stable metrics: its code is used by imports, the API and tests."""
        return self.code in STANDARD_CODES

    def __str__(self) -> str:
        return self.label


# "Not yet verified" as SQL text, the same in the partial index and in the home panel's count
# (a database uses a partial index only for a condition that visibly implies the index's).
IS_UNVERIFIED_SQL = "is_verified = false"


class EvidenceItem(Model):
    """A figure or a statement about a unit, a region or the whole service (no region), at a date."""

    __tablename__ = "evidence_items"
    __table_args__ = (
        # The dashboard reads metric → region → date in index order, values included.
        Index("ix_evidence_items_dashboard", "metric_id", "region_id", "as_of", "value", "reporter_count"),
        # The latest figure of each place, and a place's figures over a period: one range each.
        Index("ix_evidence_items_places", "metric_id", "region_id", "unit_id", "as_of", "id", "value", "grade"),
        # Lists and the API read newest first, and the API pages on (as_of, id).
        Index("ix_evidence_items_newest", "as_of", "id"),
        # The items still to verify, however few among millions.
        Index(
            "ix_evidence_items_unverified",
            "region_id",
            sqlite_where=text(IS_UNVERIFIED_SQL),
            postgresql_where=text(IS_UNVERIFIED_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    metric_id: Mapped[int | None] = mapped_column(ForeignKey("metrics.id", ondelete="RESTRICT"))
    value: Mapped[Decimal | None] = mapped_column(VALUE_TYPE)
    # The decimal places the value was given with (14.20: 2), so it is shown as it was given.
    value_places: Mapped[int | None] = mapped_column(Integer)
    statement: Mapped[str | None] = mapped_column(Text)
    as_of: Mapped[date] = mapped_column(Date)
    period_start_on: Mapped[date | None] = mapped_column(Date)
    grade: Mapped[str | None] = mapped_column(String(16))
    source_type: Mapped[str] = mapped_column(String(32), index=True)
    source_title: Mapped[str] = mapped_column(String(300), default="")
    source_publisher: Mapped[str] = mapped_column(String(200), default="")
    source_date: Mapped[date | None] = mapped_column(Date)
    source_url: Mapped[str] = mapped_column(String(500), default="")
    is_verified: Mapped[bool] = mapped_column(default=False)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.INTERNAL.value)
    # How many people an individual-report figure comes from (small numbers are withheld).
    reporter_count: Mapped[int | None] = mapped_column(Integer)
    # Where it came from: a member's case, a foreseeability notice or a testimony.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    notice_id: Mapped[int | None] = mapped_column(
        ForeignKey("foreseeability_notices.id", ondelete="SET NULL"), index=True
    )
    testimony_id: Mapped[int | None] = mapped_column(ForeignKey("testimonies.id", ondelete="SET NULL"), index=True)
    # The import it came in with (None: typed in a form or through the API).
    import_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", ondelete="SET NULL"), index=True
    )
    # An official's audited decision that this small number may be cited, and why.
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    override_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Identifies the same figure from the same source: imports use it to refuse duplicates.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    region: Mapped[Region | None] = relationship(lazy="joined")
    unit: Mapped[Unit | None] = relationship(lazy="joined")
    metric: Mapped[Metric | None] = relationship(lazy="joined")
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    @property
    def source_type_label(self) -> str:
        return SourceType.label_of(self.source_type)

    @property
    def where(self) -> str:
        if self.unit is not None:
            return f"{self.unit.name}, {self.region.name if self.region else ''}".rstrip(", ")
        return self.region.name if self.region is not None else "National"

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC

    @property
    def level(self) -> str:
        if self.unit_id is not None:
            return Level.UNIT.value
        return Level.REGION.value if self.region_id is not None else Level.NATIONAL.value

    @property
    def is_from_public_source(self) -> bool:
        return self.source_type in PUBLIC_SOURCES

    @property
    def has_web_link(self) -> bool:
        """Only a web address becomes a link: never a script (``javascript:``) or a local file."""
        return is_web_address(self.source_url)


def is_web_address(text: str | None) -> bool:
    return bool(text) and text.strip().lower().startswith(("https://", "http://"))  # type: ignore[union-attr]


def metric_by_code(code: str) -> Metric | None:
    code = code.strip().lower()
    if not code.isprintable() or len(code) > 40:
        return None  # PostgreSQL refuses NUL bytes outright; no code has control characters
    return db.session.scalar(select(Metric).where(func.lower(Metric.code) == code))
