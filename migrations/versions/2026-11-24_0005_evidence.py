"""evidence: metrics (seeded with the stable codes), evidence items, API tokens

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 21:30:00

"""

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# (code, label, unit, is_higher_worse, is_individual, is_headline, warn_at, alert_at, severe_at, description)
# The codes are stable: imports, the API, briefings and tests rely on them.
METRICS = [
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


def _seed_metrics(table) -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    op.bulk_insert(
        table,
        [
            {
                "code": code,
                "label": label,
                "unit": unit,
                "is_higher_worse": worse,
                "is_individual": individual,
                "is_headline": headline,
                "description": description,
                "created_at": now,
                "warn_at": None if warn is None else Decimal(warn),
                "alert_at": None if alert is None else Decimal(alert),
                "severe_at": None if severe is None else Decimal(severe),
            }
            for code, label, unit, worse, individual, headline, warn, alert, severe, description in METRICS
        ],
    )


def upgrade():
    metrics = op.create_table(
        "metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("is_higher_worse", sa.Boolean(), nullable=False),
        sa.Column("is_individual", sa.Boolean(), nullable=False),
        sa.Column("is_headline", sa.Boolean(), nullable=False),
        sa.Column("warn_at", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("alert_at", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("severe_at", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics")),
        sa.UniqueConstraint("code", name=op.f("uq_metrics_code")),
        sa.UniqueConstraint("label", name=op.f("uq_metrics_label")),
    )
    _seed_metrics(metrics)
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "evidence_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("metric_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("period_start_on", sa.Date(), nullable=True),
        sa.Column("grade", sa.String(length=16), nullable=True),
        sa.Column("source_type", sa.String(length=32), nullable=False),
        sa.Column("source_title", sa.String(length=300), nullable=False),
        sa.Column("source_publisher", sa.String(length=200), nullable=False),
        sa.Column("source_date", sa.Date(), nullable=True),
        sa.Column("source_url", sa.String(length=500), nullable=False),
        sa.Column("is_verified", sa.Boolean(), nullable=False),
        sa.Column("verified_by_id", sa.Integer(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("reporter_count", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("testimony_id", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_evidence_items_case_id_cases"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_evidence_items_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"], ["metrics.id"], name=op.f("fk_evidence_items_metric_id_metrics"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["foreseeability_notices.id"],
            name=op.f("fk_evidence_items_notice_id_foreseeability_notices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_evidence_items_region_id_regions"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["testimony_id"],
            ["testimonies.id"],
            name=op.f("fk_evidence_items_testimony_id_testimonies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_evidence_items_unit_id_units"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_id"], ["users.id"], name=op.f("fk_evidence_items_verified_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_items")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_evidence_items_fingerprint")),
        sa.UniqueConstraint("reference", name=op.f("uq_evidence_items_reference")),
    )
    with op.batch_alter_table("evidence_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_items_as_of"), ["as_of"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_items_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "ix_evidence_items_dashboard", ["metric_id", "region_id", "as_of", "value", "reporter_count"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_evidence_items_notice_id"), ["notice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_items_region_id"), ["region_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_items_source_type"), ["source_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_items_testimony_id"), ["testimony_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_items_unit_id"), ["unit_id"], unique=False)


def downgrade():
    with op.batch_alter_table("evidence_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_items_unit_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_items_testimony_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_items_source_type"))
        batch_op.drop_index(batch_op.f("ix_evidence_items_region_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_items_notice_id"))
        batch_op.drop_index("ix_evidence_items_dashboard")
        batch_op.drop_index(batch_op.f("ix_evidence_items_case_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_items_as_of"))

    op.drop_table("evidence_items")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("metrics")
