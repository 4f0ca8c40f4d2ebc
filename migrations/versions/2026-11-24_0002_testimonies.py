"""testimonies

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 21:30:00

Filled in by the testimonies issue: autogenerate against an upgraded database, then paste the
operations here (keep this file name and revision id).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
