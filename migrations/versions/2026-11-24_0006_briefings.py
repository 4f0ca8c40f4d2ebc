"""briefings

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 21:30:00

Briefings and their sections, the question bank and each briefing's questions, the
testimonies a briefing quotes, and the frozen published versions (PDF bytes and SHA-256).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "briefings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("subtitle", sa.String(length=200), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("dated_on", sa.Date(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("signatory_name", sa.String(length=120), nullable=False),
        sa.Column("signatory_title", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("draft_version", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_briefings_author_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"], ["users.id"], name=op.f("fk_briefings_withdrawn_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefings")),
        sa.UniqueConstraint("reference", name=op.f("uq_briefings_reference")),
        sa.UniqueConstraint("year", "number", name=op.f("uq_briefings_year")),
    )
    with op.batch_alter_table("briefings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_briefings_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_briefings_status"), ["status"], unique=False)

    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("times_used", sa.Integer(), nullable=False),
        sa.Column("last_used_on", sa.Date(), nullable=True),
        sa.Column("is_archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_questions_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
    )
    op.create_table(
        "briefing_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("briefing_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["briefing_id"],
            ["briefings.id"],
            name=op.f("fk_briefing_questions_briefing_id_briefings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_briefing_questions_question_id_questions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefing_questions")),
    )
    with op.batch_alter_table("briefing_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_briefing_questions_briefing_id"), ["briefing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_briefing_questions_question_id"), ["question_id"], unique=False)

    op.create_table(
        "briefing_sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("briefing_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("heading", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("chart_metric_code", sa.String(length=64), nullable=True),
        sa.Column("chart_region_ids", sa.JSON(), nullable=False),
        sa.Column("chart_since_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["briefing_id"],
            ["briefings.id"],
            name=op.f("fk_briefing_sections_briefing_id_briefings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefing_sections")),
    )
    with op.batch_alter_table("briefing_sections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_briefing_sections_briefing_id"), ["briefing_id"], unique=False)

    op.create_table(
        "briefing_testimonies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("briefing_id", sa.Integer(), nullable=False),
        sa.Column("testimony_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["briefing_id"],
            ["briefings.id"],
            name=op.f("fk_briefing_testimonies_briefing_id_briefings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["testimony_id"],
            ["testimonies.id"],
            name=op.f("fk_briefing_testimonies_testimony_id_testimonies"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefing_testimonies")),
        sa.UniqueConstraint("briefing_id", "testimony_id", name=op.f("uq_briefing_testimonies_briefing_id")),
    )
    with op.batch_alter_table("briefing_testimonies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_briefing_testimonies_briefing_id"), ["briefing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_briefing_testimonies_testimony_id"), ["testimony_id"], unique=False)

    op.create_table(
        "briefing_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("briefing_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("cited_references", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["briefing_id"],
            ["briefings.id"],
            name=op.f("fk_briefing_versions_briefing_id_briefings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_briefing_versions_published_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefing_versions")),
        sa.UniqueConstraint("briefing_id", "number", name=op.f("uq_briefing_versions_briefing_id")),
    )
    with op.batch_alter_table("briefing_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_briefing_versions_briefing_id"), ["briefing_id"], unique=False)


def downgrade():
    with op.batch_alter_table("briefing_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_briefing_versions_briefing_id"))

    op.drop_table("briefing_versions")
    with op.batch_alter_table("briefing_testimonies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_briefing_testimonies_testimony_id"))
        batch_op.drop_index(batch_op.f("ix_briefing_testimonies_briefing_id"))

    op.drop_table("briefing_testimonies")
    with op.batch_alter_table("briefing_sections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_briefing_sections_briefing_id"))

    op.drop_table("briefing_sections")
    with op.batch_alter_table("briefing_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_briefing_questions_question_id"))
        batch_op.drop_index(batch_op.f("ix_briefing_questions_briefing_id"))

    op.drop_table("briefing_questions")
    op.drop_table("questions")
    with op.batch_alter_table("briefings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_briefings_status"))
        batch_op.drop_index(batch_op.f("ix_briefings_author_id"))

    op.drop_table("briefings")
