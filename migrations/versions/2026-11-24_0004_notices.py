"""notices

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 21:30:00

Foreseeability notices, their escalation steps, the reminders already sent and the reps'
private calendar tokens.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notice_calendar_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notice_calendar_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_calendar_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_notice_calendar_tokens_token_sha256")),
        sa.UniqueConstraint("user_id", name=op.f("uq_notice_calendar_tokens_user_id")),
    )
    op.create_table(
        "foreseeability_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("signatory_count", sa.Integer(), nullable=False),
        sa.Column("served_to_name", sa.String(length=120), nullable=False),
        sa.Column("served_to_role", sa.String(length=120), nullable=False),
        sa.Column("wmt_percent", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("caseload", sa.Integer(), nullable=True),
        sa.Column("concerns", sa.JSON(), nullable=False),
        sa.Column("concerns_detail", sa.Text(), nullable=False),
        sa.Column("letter_wording", sa.Text(), nullable=False),
        sa.Column("served_on", sa.Date(), nullable=True),
        sa.Column("response_due_on", sa.Date(), nullable=True),
        sa.Column("response_received_on", sa.Date(), nullable=True),
        sa.Column("response_summary", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("assigned_rep_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("letter_pdf", sa.LargeBinary(), nullable=True),
        sa.Column("letter_sha256", sa.String(length=64), nullable=True),
        sa.Column("letter_frozen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_rep_id"],
            ["users.id"],
            name=op.f("fk_foreseeability_notices_assigned_rep_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_foreseeability_notices_case_id_cases"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_foreseeability_notices_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_foreseeability_notices_member_id_members"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_foreseeability_notices_region_id_regions"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_foreseeability_notices_unit_id_units"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_foreseeability_notices")),
        sa.UniqueConstraint("reference", name=op.f("uq_foreseeability_notices_reference")),
    )
    with op.batch_alter_table("foreseeability_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_foreseeability_notices_assigned_rep_id"), ["assigned_rep_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_foreseeability_notices_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_foreseeability_notices_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_foreseeability_notices_region_id"), ["region_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_foreseeability_notices_response_due_on"), ["response_due_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_foreseeability_notices_served_on"), ["served_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_foreseeability_notices_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_foreseeability_notices_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "notice_members",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_notice_members_member_id_members"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["foreseeability_notices.id"],
            name=op.f("fk_notice_members_notice_id_foreseeability_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notice_id", "member_id", name=op.f("pk_notice_members")),
    )
    op.create_table(
        "notice_escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_notice_escalations_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["foreseeability_notices.id"],
            name=op.f("fk_notice_escalations_notice_id_foreseeability_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_escalations")),
        sa.UniqueConstraint("notice_id", "step", name=op.f("uq_notice_escalations_notice_id")),
    )
    with op.batch_alter_table("notice_escalations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_escalations_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_notice_escalations_notice_id"), ["notice_id"], unique=False)

    op.create_table(
        "notice_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["foreseeability_notices.id"],
            name=op.f("fk_notice_reminders_notice_id_foreseeability_notices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notice_reminders_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_reminders")),
        sa.UniqueConstraint("user_id", "notice_id", "sent_on", name=op.f("uq_notice_reminders_user_id")),
    )
    with op.batch_alter_table("notice_reminders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_reminders_notice_id"), ["notice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notice_reminders_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("notice_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_reminders_user_id"))
        batch_op.drop_index(batch_op.f("ix_notice_reminders_notice_id"))

    op.drop_table("notice_reminders")
    with op.batch_alter_table("notice_escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_escalations_notice_id"))
        batch_op.drop_index(batch_op.f("ix_notice_escalations_due_on"))

    op.drop_table("notice_escalations")
    op.drop_table("notice_members")
    with op.batch_alter_table("foreseeability_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_foreseeability_notices_unit_id"))
        batch_op.drop_index(batch_op.f("ix_foreseeability_notices_status"))
        batch_op.drop_index(batch_op.f("ix_foreseeability_notices_served_on"))
        batch_op.drop_index(batch_op.f("ix_foreseeability_notices_response_due_on"))
        batch_op.drop_index(batch_op.f("ix_foreseeability_notices_region_id"))
        batch_op.drop_index(batch_op.f("ix_foreseeability_notices_member_id"))
        batch_op.drop_index(batch_op.f("ix_foreseeability_notices_case_id"))
        batch_op.drop_index(batch_op.f("ix_foreseeability_notices_assigned_rep_id"))

    op.drop_table("foreseeability_notices")
    op.drop_table("notice_calendar_tokens")
