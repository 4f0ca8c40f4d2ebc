"""indexes for pages at scale

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-02 14:00:00

The home page reads a few entries of these indexes instead of whole tables: cases by status,
by region and by rep, each with the next action's date (replacing the indexes on status,
region and rep alone), cases by region and last update, and a partial index of unverified
evidence items; evidence lists and the API's cursor pages read (as_of, id) newest first,
which replaces the index on as_of alone.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = None

# The single-column indexes each composite one below replaces (it leads with the same column).
REPLACED = {
    "ix_cases_status": ("ix_cases_status_next_action", ["status", "next_action_on", "region_id", "assigned_rep_id"]),
    "ix_cases_region_id": ("ix_cases_region_status", ["region_id", "status", "next_action_on", "assigned_rep_id"]),
    "ix_cases_assigned_rep_id": ("ix_cases_rep_status", ["assigned_rep_id", "status", "region_id", "next_action_on"]),
    "ix_evidence_items_as_of": ("ix_evidence_items_newest", ["as_of", "id"]),
}
IS_UNVERIFIED = sa.text("is_verified = false")  # as evidence.models.IS_UNVERIFIED_SQL


def _table(index: str) -> str:
    return "evidence_items" if index.startswith("ix_evidence_items") else "cases"


def upgrade():
    for old, (new, columns) in REPLACED.items():
        op.create_index(new, _table(new), columns)
        op.drop_index(old, table_name=_table(old))
    op.create_index("ix_cases_region_updated", "cases", ["region_id", "updated_at"])
    op.create_index(
        "ix_evidence_items_unverified",
        "evidence_items",
        ["region_id"],
        sqlite_where=IS_UNVERIFIED,
        postgresql_where=IS_UNVERIFIED,
    )


def downgrade():
    op.drop_index("ix_evidence_items_unverified", table_name="evidence_items")
    op.drop_index("ix_cases_region_updated", table_name="cases")
    for old, (new, _columns) in REPLACED.items():
        op.create_index(old, _table(old), [old.removeprefix(f"ix_{_table(old)}_")])
        op.drop_index(new, table_name=_table(new))
