"""One search across the records a user may see.

The rule: a person finds what they could open. A rep finds the cases and notices of their
regions, and the evidence of their regions and the national evidence; officials and admins
find every case, notice and item of evidence, and also approved testimonies (by their
redacted public text only) and briefings. Only text stored in clear is indexed
(``models.py``): a member's name, a case's description or a testimony's original words are
never found this way.

The words typed are reduced to letters and digits before they reach either database's query
language, so quotes, operators, brackets and FTS syntax are plain separators, never syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, column, func, literal_column, or_, select, table

from ..extensions import db
from ..regions.scoping import RegionalUser, region_ids_for
from .models import FTS_TABLE, EntryKind, SearchEntry

# The longest text read and the most words kept: beyond them a search is no sharper, only slower.
MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
# The best this many are shown; a search that finds more says so and asks for more words.
RESULT_LIMIT = 50
# A word this long or longer also finds the words it begins ("caseload" finds "caseloads").
PREFIX_FROM = 3
# Words held by more records than this are shown newest first, not ranked: weighing the
# relevance of tens of thousands of rows costs more than it tells, and the page asks for more
# words. Below it, every match is ranked.
RANKED_AT_MOST = 2_000

WORD = re.compile(r"[^\W_]+")
REGIONAL_KINDS = (EntryKind.CASE.value, EntryKind.NOTICE.value)
EVERYONES_KINDS = (EntryKind.EVIDENCE.value,)


@dataclass(frozen=True)
class Hit:
    kind: str
    record_id: int
    reference: str
    title: str

    @property
    def kind_label(self) -> str:
        return EntryKind.label_of(self.kind)


@dataclass(frozen=True)
class Results:
    text: str  # what was searched for, as read (trimmed to MAX_QUERY_LENGTH)
    terms: tuple[str, ...]
    hits: list[Hit]
    has_more: bool
    was_shortened: bool
    is_newest_first: bool = False  # more than RANKED_AT_MOST matches: newest first, not ranked

    @property
    def searched(self) -> bool:
        return bool(self.terms)


def _words(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(WORD.findall(text[:MAX_QUERY_LENGTH].casefold())))


def search_terms(text: str) -> tuple[str, ...]:
    """The words of ``text`` that a search uses: letters and digits only, lower case, each
    once, the first ``MAX_TERMS``."""
    return _words(text)[:MAX_TERMS]


def _fts5_query(terms: tuple[str, ...]) -> str:
    # Each word quoted: FTS5 reads it as a string, never as an operator or a column name.
    return " ".join(f'"{term}"' + ("*" if len(term) >= PREFIX_FROM else "") for term in terms)


def _tsquery(terms: tuple[str, ...]) -> str:
    return " & ".join(term + (":*" if len(term) >= PREFIX_FROM else "") for term in terms)


def _visible_to(user: RegionalUser) -> Any:
    """The rows ``user`` may find."""
    ids = region_ids_for(user)
    if ids is None:  # officials and admins: everything, testimonies and briefings too
        return SearchEntry.kind.in_([kind.value for kind in EntryKind])
    return or_(
        and_(SearchEntry.kind.in_(REGIONAL_KINDS), SearchEntry.region_id.in_(ids)),
        and_(
            SearchEntry.kind.in_(EVERYONES_KINDS),
            or_(SearchEntry.region_id.is_(None), SearchEntry.region_id.in_(ids)),
        ),
    )


def _typed_reference(text: str) -> str | None:
    typed = text.strip().upper()
    # Only text shaped like a reference is compared with references (a NUL never reaches PostgreSQL).
    return typed if typed and typed.isprintable() and len(typed) <= 32 else None


def _matching(terms: tuple[str, ...]) -> tuple[Select, Any, Any]:
    """The rows holding every term, the database's relevance of each (in order, best first),
    and newest first in the order the index itself keeps."""
    columns = (SearchEntry.kind, SearchEntry.record_id, SearchEntry.reference, SearchEntry.title)
    if db.engine.dialect.name == "postgresql":
        query = func.to_tsquery(literal_column("'english'::regconfig"), bindparam("tsquery", _tsquery(terms)))
        document: ColumnElement[Any] = literal_column("search_entries.document")
        matching = select(*columns).where(document.op("@@")(query))
        return matching, func.ts_rank(document, query).desc(), SearchEntry.id.desc()
    fts = table(FTS_TABLE, column("rowid"))
    matching = (
        select(*columns)
        .join_from(fts, SearchEntry, SearchEntry.id == fts.c.rowid)
        .where(literal_column(FTS_TABLE).op("MATCH")(bindparam("fts", _fts5_query(terms))))
    )
    return matching, func.bm25(literal_column(FTS_TABLE), 10.0, 5.0, 1.0), fts.c.rowid.desc()


def search(user: RegionalUser, text: str) -> Results:
    """The records ``user`` may see that hold every word of ``text``, best first (a record whose
    reference is exactly what was typed, then by the database's own relevance, reference and
    title weighing more than the rest), at most ``RESULT_LIMIT``. Words held by more than
    ``RANKED_AT_MOST`` records are shown newest first instead. Text with no letters or digits
    finds nothing and is no error."""
    text = text or ""
    terms = search_terms(text)
    shortened = len(text) > MAX_QUERY_LENGTH or len(_words(text)) > MAX_TERMS
    if not terms:
        return Results(text[:MAX_QUERY_LENGTH], terms, [], has_more=False, was_shortened=False)
    typed = _typed_reference(text[:MAX_QUERY_LENGTH])
    matching, relevance, newest = _matching(terms)
    matching = matching.where(_visible_to(user))
    common = (
        db.session.scalar(
            select(func.count()).select_from(
                matching.with_only_columns(SearchEntry.id).limit(RANKED_AT_MOST + 1).subquery()
            )
        )
        or 0
    ) > RANKED_AT_MOST
    if common:  # the newest, read in order from the index's end; the exact reference first
        rows = list(db.session.execute(matching.order_by(newest).limit(RESULT_LIMIT + 1)).all())
        if typed is not None:
            exact = list(db.session.execute(matching.where(SearchEntry.reference == typed)).all())
            rows = exact + [row for row in rows if row.reference != typed]
    else:
        exact_first = case((SearchEntry.reference == typed, 0), else_=1) if typed else literal_column("1")
        stmt = matching.order_by(exact_first, relevance, SearchEntry.id.desc()).limit(RESULT_LIMIT + 1)
        rows = list(db.session.execute(stmt).all())
    hits = [Hit(*row) for row in rows[:RESULT_LIMIT]]
    return Results(
        text[:MAX_QUERY_LENGTH],
        terms,
        hits,
        has_more=len(rows) > RESULT_LIMIT,
        was_shortened=shortened,
        is_newest_first=common,
    )
