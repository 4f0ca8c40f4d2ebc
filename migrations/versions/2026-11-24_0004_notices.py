"""notices

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 21:30:00

Filled in by the notices issue: autogenerate against an upgraded database, then paste the
operations here (keep this file name and revision id).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
