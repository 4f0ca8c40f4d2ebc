"""search, letters and members

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 16:00:00

One search index for cases, notices, evidence, approved testimonies and briefings
(``search_entries``), holding only text stored in clear. Triggers on each record's table keep
a record's row current whenever the record is written, however it is written; the rows of
existing records are built here. SQLite indexes them with FTS5 (``search_fts``, an
external-content table kept by triggers of its own); PostgreSQL with a generated ``tsvector``
column and a GIN index.

Letter templates kept by admins, and the letters sent from them (the PDF as sent, encrypted,
with its SHA-256).

A note for later migrations: on SQLite, a batch ``ALTER`` that copies one of the indexed
tables drops its triggers with the old table; such a migration must create them again
(``SOURCES`` below says what they are).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# kind -> (table, the columns whose change rewrites the row, region, title, body, condition).
# Only columns stored in clear: encrypted ones are ciphertext to the database.
SOURCES = {
    "case": (
        "cases",
        ("reference", "region_id", "title", "next_action"),
        "t.region_id",
        "t.title",
        "coalesce(t.next_action, '')",
        "",
    ),
    "notice": (
        "foreseeability_notices",
        ("reference", "region_id", "served_to_name", "served_to_role"),
        "t.region_id",
        "CASE WHEN coalesce(t.served_to_name, '') = '' THEN coalesce(t.served_to_role, '')"
        " ELSE t.served_to_name || ', ' || coalesce(t.served_to_role, '') END",
        "coalesce(t.served_to_name, '') || ' ' || coalesce(t.served_to_role, '')",
        "",
    ),
    "evidence": (
        "evidence_items",
        ("reference", "region_id", "metric_id", "statement", "source_title", "source_publisher"),
        "t.region_id",
        "coalesce((SELECT m.label FROM metrics m WHERE m.id = t.metric_id), 'Statement')",
        "coalesce(t.statement, '') || ' ' || coalesce(t.source_title, '') || ' ' || coalesce(t.source_publisher, '')",
        "",
    ),
    "testimony": (
        "testimonies",
        ("reference", "region_id", "status", "public_text"),
        "t.region_id",
        "substr(t.public_text, 1, 120)",
        "t.public_text",
        " AND t.status = 'approved' AND t.public_text IS NOT NULL",
    ),
    "briefing": (
        "briefings",
        ("reference", "title", "subtitle"),
        "NULL",
        "t.title",
        "coalesce(t.subtitle, '') || ' ' || coalesce((SELECT {aggregate} FROM briefing_sections s"
        " WHERE s.briefing_id = t.id), '')",
        "",
    ),
}
AGGREGATE = {
    "sqlite": "group_concat(s.heading || ' ' || s.body, ' ')",
    "postgresql": "string_agg(s.heading || ' ' || s.body, ' ' ORDER BY s.position)",
}


def _fill(kind: str, dialect: str, record_id: str | None) -> str:
    """The INSERT that writes ``kind``'s row for one record (or, with no id, for all)."""
    table, _columns, region, title, body, condition = SOURCES[kind]
    body = body.format(aggregate=AGGREGATE[dialect])
    which = f"t.id = {record_id}" if record_id else "1 = 1"
    return (
        "INSERT INTO search_entries (kind, record_id, reference, region_id, title, body) "
        f"SELECT '{kind}', t.id, t.reference, {region}, coalesce({title}, ''), coalesce({body}, '') "
        f"FROM {table} t WHERE {which}{condition}"
    )


def _forget(kind: str, record_id: str) -> str:
    return f"DELETE FROM search_entries WHERE kind = '{kind}' AND record_id = {record_id}"


def _sqlite_triggers() -> list[str]:
    statements = [
        "CREATE VIRTUAL TABLE search_fts USING fts5(reference, title, body, content='search_entries',"
        " content_rowid='id', tokenize='porter unicode61 remove_diacritics 2', prefix='3')",
        "CREATE TRIGGER search_fts_ai AFTER INSERT ON search_entries BEGIN"
        " INSERT INTO search_fts(rowid, reference, title, body) VALUES (new.id, new.reference, new.title, new.body);"
        " END",
        "CREATE TRIGGER search_fts_ad AFTER DELETE ON search_entries BEGIN"
        " INSERT INTO search_fts(search_fts, rowid, reference, title, body)"
        " VALUES ('delete', old.id, old.reference, old.title, old.body); END",
        "CREATE TRIGGER search_fts_au AFTER UPDATE ON search_entries BEGIN"
        " INSERT INTO search_fts(search_fts, rowid, reference, title, body)"
        " VALUES ('delete', old.id, old.reference, old.title, old.body);"
        " INSERT INTO search_fts(rowid, reference, title, body) VALUES (new.id, new.reference, new.title, new.body);"
        " END",
    ]
    for kind, (table, columns, *_rest) in SOURCES.items():
        refresh = f"{_forget(kind, 'NEW.id')}; {_fill(kind, 'sqlite', 'NEW.id')};"
        statements += [
            f"CREATE TRIGGER search_{table}_ai AFTER INSERT ON {table} BEGIN {refresh} END",
            f"CREATE TRIGGER search_{table}_au AFTER UPDATE OF {', '.join(columns)} ON {table} BEGIN {refresh} END",
            f"CREATE TRIGGER search_{table}_ad AFTER DELETE ON {table} BEGIN {_forget(kind, 'OLD.id')}; END",
        ]
    # A briefing's sections are part of its text.
    refresh = f"{_forget('briefing', '{row}.briefing_id')}; {_fill('briefing', 'sqlite', '{row}.briefing_id')};"
    statements += [
        f"CREATE TRIGGER search_briefing_sections_ai AFTER INSERT ON briefing_sections BEGIN"
        f" {refresh.format(row='NEW')} END",
        f"CREATE TRIGGER search_briefing_sections_au AFTER UPDATE OF heading, body, briefing_id ON briefing_sections"
        f" BEGIN {refresh.format(row='OLD')} {refresh.format(row='NEW')} END",
        f"CREATE TRIGGER search_briefing_sections_ad AFTER DELETE ON briefing_sections BEGIN"
        f" {refresh.format(row='OLD')} END",
    ]
    return statements


def _postgresql_triggers() -> list[str]:
    statements = [
        "ALTER TABLE search_entries ADD COLUMN document tsvector GENERATED ALWAYS AS ("
        # Hyphens split words, as in SQLite: PostgreSQL's parser would read "CASE-2026-0042" as
        # "case", "-2026", "-0042", which "2026" does not find.
        "setweight(to_tsvector('english'::regconfig, replace(reference, '-', ' ')), 'A')"
        " || setweight(to_tsvector('english'::regconfig, replace(title, '-', ' ')), 'B')"
        " || to_tsvector('english'::regconfig, replace(body, '-', ' '))) STORED",
        "CREATE INDEX ix_search_entries_document ON search_entries USING gin (document)",
    ]
    for kind, (table, columns, *_rest) in SOURCES.items():
        statements += [
            f"""
            CREATE FUNCTION search_refresh_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'INSERT' THEN {_forget(kind, "OLD.id")}; END IF;
                IF TG_OP <> 'DELETE' THEN {_forget(kind, "NEW.id")}; {_fill(kind, "postgresql", "NEW.id")}; END IF;
                RETURN NULL;
            END
            $$
            """,
            f"CREATE TRIGGER search_refresh AFTER INSERT OR DELETE OR UPDATE OF {', '.join(columns)} ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION search_refresh_{table}()",
        ]
    statements += [
        f"""
        CREATE FUNCTION search_refresh_briefing_sections() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                {_forget("briefing", "OLD.briefing_id")}; {_fill("briefing", "postgresql", "OLD.briefing_id")};
            END IF;
            IF TG_OP <> 'DELETE' THEN
                {_forget("briefing", "NEW.briefing_id")}; {_fill("briefing", "postgresql", "NEW.briefing_id")};
            END IF;
            RETURN NULL;
        END
        $$
        """,
        "CREATE TRIGGER search_refresh AFTER INSERT OR DELETE OR UPDATE OF heading, body, briefing_id"
        " ON briefing_sections FOR EACH ROW EXECUTE FUNCTION search_refresh_briefing_sections()",
    ]
    return statements


def _create_search_index() -> None:
    op.create_table(
        "search_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_entries")),
        sa.UniqueConstraint("kind", "record_id", name=op.f("uq_search_entries_kind")),
    )
    op.create_index("ix_search_entries_region_kind", "search_entries", ["region_id", "kind"])
    dialect = op.get_bind().dialect.name
    for statement in _sqlite_triggers() if dialect == "sqlite" else _postgresql_triggers():
        op.execute(statement)
    for kind in SOURCES:
        op.execute(_fill(kind, dialect, None))


def _drop_search_index() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in [source[0] for source in SOURCES.values()] + ["briefing_sections"]:
            for suffix in ("ai", "au", "ad"):
                op.execute(f"DROP TRIGGER search_{table}_{suffix}")
        op.execute("DROP TABLE search_fts")  # its triggers on search_entries go with the table below
    else:
        for table in [source[0] for source in SOURCES.values()] + ["briefing_sections"]:
            op.execute(f"DROP TRIGGER search_refresh ON {table}")
            op.execute(f"DROP FUNCTION search_refresh_{table}()")
    op.drop_index("ix_search_entries_region_kind", table_name="search_entries")
    op.drop_table("search_entries")


def _create_letters() -> None:
    op.create_table(
        "letter_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("is_archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letter_templates")),
        sa.UniqueConstraint("name", name=op.f("uq_letter_templates_name")),
    )
    op.create_table(
        "sent_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),  # encrypted (EncryptedBytes)
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_sent_letters_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["letter_templates.id"],
            name=op.f("fk_sent_letters_template_id_letter_templates"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["foreseeability_notices.id"],
            name=op.f("fk_sent_letters_notice_id_foreseeability_notices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"], ["users.id"], name=op.f("fk_sent_letters_sent_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_letters")),
    )
    op.create_index(op.f("ix_sent_letters_case_id"), "sent_letters", ["case_id"])


def _drop_letters() -> None:
    op.drop_index(op.f("ix_sent_letters_case_id"), table_name="sent_letters")
    op.drop_table("sent_letters")
    op.drop_table("letter_templates")


def upgrade():
    _create_search_index()
    _create_letters()


def downgrade():
    _drop_letters()
    _drop_search_index()
