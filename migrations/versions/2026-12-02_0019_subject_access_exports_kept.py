"""subject access exports made on a worker and kept until answered

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 15:00:00

A subject access export is made by a background job; the request keeps the stored
(encrypted) file's name and when it was made, until the request is answered or the member
erased.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("subject_access_requests", sa.Column("export_file", sa.String(length=64), nullable=True))
    op.add_column("subject_access_requests", sa.Column("export_made_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # Dropped in place (no batch copy): the stored exports themselves are left to the store.
    op.drop_column("subject_access_requests", "export_made_at")
    op.drop_column("subject_access_requests", "export_file")
