"""indexes for pages at scale

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-02 14:00:00

The home page reads a few entries of these indexes instead of whole tables: partial indexes
over live cases (overdue next actions, a rep's own cases, their counts) and over unverified
evidence items; evidence lists and the API's cursor pages read (as_of, id) newest first,
which replaces the index on as_of alone.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0008"
branch_labels = None
depends_on = None

# Written out as in the models (cases.models.IS_LIVE_SQL, evidence.models.IS_UNVERIFIED_SQL),
# frozen here as they were at this revision.
IS_LIVE = sa.text("status IN ('open', 'in_progress', 'escalated', 'reopened')")
IS_UNVERIFIED = sa.text("is_verified = false")


def upgrade():
    op.create_index(
        "ix_cases_live_next_action",
        "cases",
        ["next_action_on", "region_id", "assigned_rep_id", "status"],
        sqlite_where=IS_LIVE,
        postgresql_where=IS_LIVE,
    )
    op.create_index(
        "ix_cases_live_by_rep",
        "cases",
        ["assigned_rep_id", "next_action_on", "status"],
        sqlite_where=IS_LIVE,
        postgresql_where=IS_LIVE,
    )
    op.create_index("ix_evidence_items_newest", "evidence_items", ["as_of", "id"])
    op.drop_index("ix_evidence_items_as_of", table_name="evidence_items")
    op.create_index(
        "ix_evidence_items_unverified",
        "evidence_items",
        ["region_id"],
        sqlite_where=IS_UNVERIFIED,
        postgresql_where=IS_UNVERIFIED,
    )


def downgrade():
    op.drop_index("ix_evidence_items_unverified", table_name="evidence_items")
    op.create_index("ix_evidence_items_as_of", "evidence_items", ["as_of"])
    op.drop_index("ix_evidence_items_newest", table_name="evidence_items")
    op.drop_index("ix_cases_live_by_rep", table_name="cases")
    op.drop_index("ix_cases_live_next_action", table_name="cases")
