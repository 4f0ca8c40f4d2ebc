"""an index of each place's figures

Revision ID: 0018
Revises: 0011
Create Date: 2026-12-02 14:30:00

The dashboard finds the latest figure of each place (region, unit, grade) and counts a
place's figures over a period by reading one range of this index per place, instead of
numbering every figure of a metric or walking every metric's figures by date.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = ["metric_id", "region_id", "unit_id", "as_of", "id", "value", "grade"]


def upgrade():
    op.create_index("ix_evidence_items_places", "evidence_items", COLUMNS)


def downgrade():
    op.drop_index("ix_evidence_items_places", table_name="evidence_items")
