"""members' data protection

Revision ID: 0011
Revises: 0013
Create Date: 2026-12-02 12:00:00

The audit log refuses UPDATE and DELETE in the database itself (triggers on SQLite and
PostgreSQL, and TRUNCATE on PostgreSQL), except the deletion of entries older than the
cutoff of a permit that the retention run lays and lifts inside its own transaction
(``audit_deletion_permits``). Subject access requests and erasure tombstones get their tables;
members, cases and notices remember the day they were erased or anonymised. Published briefing
versions remember the testimonies they quote (for existing versions: those whose approved
public text appears in the version's stored HTML), and the days a quoted testimony was
withdrawn, the stored copy erased and officials told.
"""

import sqlalchemy as sa
from alembic import op
from markupsafe import escape

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0013"
branch_labels = None
depends_on = None

APPEND_ONLY = "the audit log is append-only"

SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END
    """,
    f"""
    CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    WHEN NOT EXISTS (SELECT 1 FROM audit_deletion_permits WHERE OLD.occurred_at < delete_before)
    BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END
    """,
]

POSTGRESQL_TRIGGERS = [
    f"""
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF EXISTS (SELECT 1 FROM audit_deletion_permits WHERE OLD.occurred_at < delete_before) THEN
                RETURN OLD;
            END IF;
        END IF;
        RAISE EXCEPTION '{APPEND_ONLY}' USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
    """,
    """
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
    """,
]


def upgrade():
    op.create_table(
        "audit_deletion_permits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delete_before", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_deletion_permits")),
    )
    for statement in SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRESQL_TRIGGERS:
        op.execute(statement)

    op.create_table(
        "erasure_tombstones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("number_hash", sa.String(length=64), nullable=True),
        sa.Column("erased_on", sa.Date(), nullable=False),
        sa.Column("account_action", sa.String(length=16), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_tombstones")),
        sa.UniqueConstraint("kind", "record_id", name=op.f("uq_erasure_tombstones_kind")),
    )
    with op.batch_alter_table("erasure_tombstones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_erasure_tombstones_number_hash"), ["number_hash"], unique=False)

    op.create_table(
        "subject_access_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("received_via", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("exported_on", sa.Date(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("last_reminded_on", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_subject_access_requests_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_subject_access_requests_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_access_requests")),
        sa.UniqueConstraint("reference", name=op.f("uq_subject_access_requests_reference")),
    )
    with op.batch_alter_table("subject_access_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_access_requests_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_subject_access_requests_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_subject_access_requests_status"), ["status"], unique=False)

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_on", sa.Date(), nullable=True))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymised_on", sa.Date(), nullable=True))
    with op.batch_alter_table("foreseeability_notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymised_on", sa.Date(), nullable=True))
    with op.batch_alter_table("briefing_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_testimony_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("pdf_erased_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("officials_told_on", sa.Date(), nullable=True))

    op.create_table(
        "briefing_version_testimonies",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("testimony_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["testimony_id"],
            ["testimonies.id"],
            name=op.f("fk_briefing_version_testimonies_testimony_id_testimonies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["briefing_versions.id"],
            name=op.f("fk_briefing_version_testimonies_version_id_briefing_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "testimony_id", name=op.f("pk_briefing_version_testimonies")),
    )
    with op.batch_alter_table("briefing_version_testimonies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_briefing_version_testimonies_testimony_id"), ["testimony_id"], unique=False
        )
    _link_published_versions_to_their_quotes()


def _link_published_versions_to_their_quotes():
    """A version quotes a testimony when the testimony's public text, escaped as the template
    escapes it, is in the version's stored HTML. Testimonies withdrawn before this revision have
    no public text left, so cannot be found: their withdrawal already stopped future quoting."""
    connection = op.get_bind()
    versions = sa.table("briefing_versions", sa.column("id", sa.Integer()), sa.column("html", sa.Text()))
    testimonies = sa.table("testimonies", sa.column("id", sa.Integer()), sa.column("public_text", sa.Text()))
    links = sa.table("briefing_version_testimonies", sa.column("version_id"), sa.column("testimony_id"))
    quotes = [
        (row.id, str(escape(row.public_text)))
        for row in connection.execute(sa.select(testimonies.c.id, testimonies.c.public_text))
        if row.public_text
    ]
    if not quotes:
        return
    found = []
    for version in connection.execute(sa.select(versions.c.id, versions.c.html)):
        found.extend(
            {"version_id": version.id, "testimony_id": testimony_id}
            for testimony_id, text in quotes
            if text and text in (version.html or "")
        )
    if found:
        connection.execute(sa.insert(links), found)


def downgrade():
    with op.batch_alter_table("briefing_version_testimonies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_briefing_version_testimonies_testimony_id"))
    op.drop_table("briefing_version_testimonies")

    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35 and later), never batch mode's copy of the
    # table: on SQLite that drops the old table, and with foreign keys on, dropping a table
    # deletes its rows first, which would cascade to every case's timeline and attachments.
    for table, column in (
        ("briefing_versions", "officials_told_on"),
        ("briefing_versions", "pdf_erased_on"),
        ("briefing_versions", "withdrawn_testimony_on"),
        ("foreseeability_notices", "anonymised_on"),
        ("cases", "anonymised_on"),
        ("members", "erased_on"),
    ):
        op.drop_column(table, column)

    with op.batch_alter_table("subject_access_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_access_requests_status"))
        batch_op.drop_index(batch_op.f("ix_subject_access_requests_member_id"))
        batch_op.drop_index(batch_op.f("ix_subject_access_requests_due_on"))
    op.drop_table("subject_access_requests")

    with op.batch_alter_table("erasure_tombstones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erasure_tombstones_number_hash"))
    op.drop_table("erasure_tombstones")

    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_delete")
        op.execute("DROP TRIGGER audit_events_no_update")
    else:
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    op.drop_table("audit_deletion_permits")
