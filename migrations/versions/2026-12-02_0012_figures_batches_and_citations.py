"""figures true to their sources: import batches, exact places, metric dimensions, overrides

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02 13:00:00

Every import becomes a batch (who, when, file, SHA-256, rows) that can be verified or
reverted whole. A value keeps the decimal places it was given with. Metrics say whether
their figures add up and at which levels they are kept, and the stable set gains joiners.
An official may let a small number be cited, with a reason. Briefing sections remember the
numbers marked "not a statistic", and a chart may show the latest figure per region at a
date or the evidence the official picked.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

ADDITIVE = (
    "unallocated_cases",
    "spo_name_only_cases",
    "vacancies",
    "staff_in_post",
    "leavers",
    "leavers_within_2y",
    "joiners",
    "sfo_count",
    "notices_served",
)


def upgrade():
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("first_reference", sa.String(length=16), nullable=True),
        sa.Column("last_reference", sa.String(length=16), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("source_type", sa.String(length=32), nullable=True),
        sa.Column("is_verified", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_by_id", sa.Integer(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reverted_by_id", sa.Integer(), nullable=True),
        sa.Column("reverted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_import_batches_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_id"], ["users.id"], name=op.f("fk_import_batches_verified_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["reverted_by_id"], ["users.id"], name=op.f("fk_import_batches_reverted_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
        sa.UniqueConstraint("reference", name=op.f("uq_import_batches_reference")),
    )
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_additive", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(
            sa.Column("levels", sa.String(length=40), nullable=False, server_default="national,region,unit")
        )
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.alter_column("is_additive", server_default=None)
        batch_op.alter_column("levels", server_default=None)
    metrics = sa.table(
        "metrics",
        sa.column("code", sa.String),
        sa.column("label", sa.String),
        sa.column("unit", sa.String),
        sa.column("description", sa.Text),
        sa.column("is_higher_worse", sa.Boolean),
        sa.column("is_individual", sa.Boolean),
        sa.column("is_headline", sa.Boolean),
        sa.column("is_additive", sa.Boolean),
        sa.column("levels", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    if connection.execute(sa.select(metrics.c.code).where(metrics.c.code == "joiners")).first() is None:
        op.bulk_insert(
            metrics,
            [
                {
                    "code": "joiners",
                    "label": "Joiners (appointments)",
                    "unit": "count",
                    "description": "Staff appointed in the period; the grade says to which posts.",
                    "is_higher_worse": False,
                    "is_individual": False,
                    "is_headline": False,
                    "is_additive": True,
                    "levels": "national,region,unit",
                    "created_at": datetime.now(UTC),
                }
            ],
        )
    op.execute(metrics.update().where(metrics.c.code.in_(ADDITIVE)).values(is_additive=True))

    with op.batch_alter_table("evidence_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("value_places", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("import_batch_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("override_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("override_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("override_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_evidence_items_import_batch_id"), ["import_batch_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_evidence_items_import_batch_id_import_batches"),
            "import_batches",
            ["import_batch_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_evidence_items_override_by_id_users"),
            "users",
            ["override_by_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("briefing_sections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chart_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("chart_references", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("plain_numbers", sa.JSON(), nullable=True))
    sections = sa.table(
        "briefing_sections", sa.column("chart_references", sa.JSON), sa.column("plain_numbers", sa.JSON)
    )
    op.execute(sections.update().values(chart_references=[], plain_numbers=[]))
    with op.batch_alter_table("briefing_sections", schema=None) as batch_op:
        batch_op.alter_column("chart_references", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("plain_numbers", existing_type=sa.JSON(), nullable=False)


def downgrade():
    with op.batch_alter_table("briefing_sections", schema=None) as batch_op:
        batch_op.drop_column("plain_numbers")
        batch_op.drop_column("chart_references")
        batch_op.drop_column("chart_on")
    with op.batch_alter_table("evidence_items", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_evidence_items_override_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_evidence_items_import_batch_id_import_batches"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_evidence_items_import_batch_id"))
        batch_op.drop_column("override_at")
        batch_op.drop_column("override_by_id")
        batch_op.drop_column("override_reason")
        batch_op.drop_column("import_batch_id")
        batch_op.drop_column("value_places")
    metrics = sa.table("metrics", sa.column("id", sa.Integer), sa.column("code", sa.String))
    evidence = sa.table("evidence_items", sa.column("metric_id", sa.Integer))
    joiners = sa.select(metrics.c.id).where(metrics.c.code == "joiners").scalar_subquery()
    # Joiners' figures cannot outlive their metric in the older schema.
    op.execute(evidence.delete().where(evidence.c.metric_id == joiners))
    op.execute(metrics.delete().where(metrics.c.code == "joiners"))
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.drop_column("levels")
        batch_op.drop_column("is_additive")
    op.drop_table("import_batches")
