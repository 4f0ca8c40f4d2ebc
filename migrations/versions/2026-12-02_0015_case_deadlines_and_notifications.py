"""case deadlines and notifications

Revision ID: 0015
Revises: 0019 (0011 when written; main gained 0018 and 0019 meanwhile)
Create Date: 2026-12-02 16:00:00

Deadline types an admin defines (a rule: working days, calendar days or months less a day)
and the deadlines set on cases; each person's notifications (the inbox, and whether each was
e-mailed) and their choice of what reaches them by e-mail; a region's branch contact address,
told when a notice escalates by itself; and whether an escalation step was taken by the
daily run rather than a person.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "deadline_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("rule", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("remind_days_before", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_types")),
        sa.UniqueConstraint("name", name=op.f("uq_deadline_types_name")),
    )
    op.create_table(
        "case_deadlines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("deadline_type_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("met_on", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_deadlines_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_case_deadlines_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["deadline_type_id"],
            ["deadline_types.id"],
            name=op.f("fk_case_deadlines_deadline_type_id_deadline_types"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_deadlines")),
    )
    with op.batch_alter_table("case_deadlines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_deadlines_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_deadlines_deadline_type_id"), ["deadline_type_id"], unique=False)
        batch_op.create_index("ix_case_deadlines_open_due", ["met_on", "due_on", "case_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("message", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=True),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_state", sa.String(length=16), nullable=False),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_notifications_user_id")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_email_state"), ["email_state"], unique=False)
        batch_op.create_index("ix_notifications_user_unread", ["user_id", "read_at", "id"], unique=False)

    op.create_table(
        "notification_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email_kinds", sa.JSON(), nullable=False),
        sa.Column("is_daily_digest", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_settings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_settings")),
    )

    op.add_column("regions", sa.Column("branch_contact_email", sa.String(length=254), nullable=True))
    # Steps recorded before this revision were all taken by people.
    op.add_column(
        "notice_escalations",
        sa.Column("is_automatic", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35 and later), never batch mode's copy of a table that others
    # reference: on SQLite that would cascade-delete their rows (as 0011's downgrade says).
    op.drop_column("notice_escalations", "is_automatic")
    op.drop_column("regions", "branch_contact_email")
    op.drop_table("notification_settings")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_unread")
        batch_op.drop_index(batch_op.f("ix_notifications_email_state"))
    op.drop_table("notifications")
    with op.batch_alter_table("case_deadlines", schema=None) as batch_op:
        batch_op.drop_index("ix_case_deadlines_open_due")
        batch_op.drop_index(batch_op.f("ix_case_deadlines_deadline_type_id"))
        batch_op.drop_index(batch_op.f("ix_case_deadlines_case_id"))
    op.drop_table("case_deadlines")
    op.drop_table("deadline_types")
