"""The search index: one row per searchable record, kept by the database itself.

``search_entries`` holds, for each case, notice, evidence item, approved testimony and
briefing, its reference, its region and the text that may be searched, which is only ever text
stored in clear (``docs/privacy.md``, "Search"). Triggers on the records' tables (migration
0016) rewrite a record's row whenever the record is written, by a service, a bulk import, a
retention run or a migration alike, so no code path can forget it. On SQLite an FTS5 table
(``search_fts``) indexes the rows; on PostgreSQL a generated ``tsvector`` column
(``search_entries.document``) with a GIN index does. Neither is a model: they belong to the
database, and the schema comparison leaves them out (``is_modelled``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ..kernel.labels import N_, LabelledEnum


class EntryKind(LabelledEnum):
    CASE = "case", N_("Case")
    NOTICE = "notice", N_("Foreseeability notice")
    EVIDENCE = "evidence", N_("Evidence")
    TESTIMONY = "testimony", N_("Testimony")
    BRIEFING = "briefing", N_("Briefing")


class SearchEntry(Model):
    """What the index knows of one record. Written by the database's triggers only."""

    __tablename__ = "search_entries"
    __table_args__ = (
        UniqueConstraint("kind", "record_id"),
        Index("ix_search_entries_region_kind", "region_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(32))
    # No foreign key: the row follows its record, and its record follows the region.
    region_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")


# What the database keeps beside the model: the FTS5 table and its shadow tables (SQLite), the
# tsvector column and its index (PostgreSQL).
FTS_TABLE = "search_fts"
DATABASE_OWNED_TABLES = frozenset(
    {FTS_TABLE} | {f"{FTS_TABLE}_{part}" for part in ("data", "idx", "docsize", "config", "content")}
)
DATABASE_OWNED_COLUMNS = frozenset({("search_entries", "document")})
DATABASE_OWNED_INDEXES = frozenset({"ix_search_entries_document"})


def is_modelled(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """For Alembic's ``include_name``: leave out what the database keeps for search."""
    if type_ == "table":
        return name not in DATABASE_OWNED_TABLES
    if type_ == "column":
        return (parent_names.get("table_name"), name) not in DATABASE_OWNED_COLUMNS
    if type_ == "index":
        return name not in DATABASE_OWNED_INDEXES
    return True
