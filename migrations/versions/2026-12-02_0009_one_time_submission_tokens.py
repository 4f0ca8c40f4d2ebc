"""one-time submission tokens

Revision ID: 0009
Revises: 0014
Create Date: 2026-12-02 15:00:00

Every form that creates a record carries a one-time token; a used one is kept here (for two
days) with the page that shows what it made, so the same form sent twice makes one record.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "used_submissions",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("result_url", sa.String(length=500), nullable=True),
        sa.Column("used_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_used_submissions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_used_submissions")),
        # Ordered by the random token, not by insertion (SQLite; PostgreSQL ignores it).
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_used_submissions_used_on"), "used_submissions", ["used_on"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_used_submissions_used_on"), table_name="used_submissions")
    op.drop_table("used_submissions")
