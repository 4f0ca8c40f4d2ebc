"""Rows spread like a union's records after some years, inserted in bulk (executemany in
batches), for the scale benchmark and for the tests that read query plans at scale.

Most cases were closed long ago and a few are live; evidence items cover ten years of every
metric in every region, a few national, most verified. Random but reproducible (a seeded
``random.Random``), and fast: no service, no audit entry, no reference counter.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert, select

from napo_tracker.cases.models import Case, CaseCategory, CaseStatus
from napo_tracker.evidence.models import EvidenceItem, Metric
from napo_tracker.extensions import db

BATCH = 20_000
TODAY = date(2026, 12, 2)
# Of a union's cases after some years: most closed or resolved, a sixth still live.
STATUS_WEIGHTS = {
    CaseStatus.CLOSED: 60,
    CaseStatus.RESOLVED: 23,
    CaseStatus.OPEN: 7,
    CaseStatus.IN_PROGRESS: 6,
    CaseStatus.ESCALATED: 3,
    CaseStatus.REOPENED: 1,
}
LIVE = {CaseStatus.OPEN, CaseStatus.IN_PROGRESS, CaseStatus.ESCALATED, CaseStatus.REOPENED}


def _in_batches(table: Table, rows: Iterator[dict[str, Any]], progress: Callable[[int], None] | None) -> int:
    if db.session.connection().dialect.name == "postgresql":
        return _copy(table, rows, progress)
    batch: list[dict[str, Any]] = []
    done = 0
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            db.session.execute(insert(table), batch)
            done += len(batch)
            batch = []
            if progress:
                progress(done)
    if batch:
        db.session.execute(insert(table), batch)
        done += len(batch)
    return done


def _copy(table: Table, rows: Iterator[dict[str, Any]], progress: Callable[[int], None] | None) -> int:
    """PostgreSQL's COPY: several times faster than batched INSERTs for millions of rows."""
    first = next(rows, None)
    if first is None:
        return 0
    columns = list(first)
    raw = db.session.connection().connection.dbapi_connection
    done = 0
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in _chain(first, rows):
            copy.write_row([row[c] for c in columns])
            done += 1
            if progress and done % BATCH == 0:
                progress(done)
    return done


def _chain(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest


def case_rows(
    rng: random.Random, count: int, region_ids: Sequence[int], rep_ids: Sequence[int], start: int = 1
) -> Iterator[dict[str, Any]]:
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    categories = [c.value for c in CaseCategory]
    moment = datetime(TODAY.year, TODAY.month, TODAY.day, 9, tzinfo=UTC)
    for n in range(start, start + count):
        status = rng.choices(statuses, weights)[0]
        opened = TODAY - timedelta(days=rng.randint(0, 5 * 365))
        live = status in LIVE
        # Live cases: next actions a few weeks either side of today; old ones: long past.
        next_on = TODAY + timedelta(days=rng.randint(-40, 30)) if live else opened + timedelta(days=rng.randint(7, 60))
        updated = (
            moment - timedelta(minutes=rng.randint(0, 60 * 24 * 30))
            if live
            else datetime(opened.year, opened.month, opened.day, tzinfo=UTC) + timedelta(days=rng.randint(1, 90))
        )
        yield {
            "reference": f"CASE-S-{n:08d}",
            "region_id": rng.choice(region_ids),
            "category": rng.choice(categories),
            "title": f"Generated case {n}",
            "description": "",
            "wmt_percent": rng.randint(80, 190),
            "caseload": rng.randint(20, 90),
            "has_high_risk_cases": rng.random() < 0.4,
            "has_mappa_cases": rng.random() < 0.15,
            "has_domestic_abuse_cases": rng.random() < 0.2,
            "has_protected_caseload_breach": False,
            "has_no_cover": False,
            "has_evidence_consent": False,
            "priority": "normal",
            "status": status.value,
            "assigned_rep_id": rng.choice(rep_ids) if rep_ids and rng.random() < 0.8 else None,
            "next_action": "Chase the senior manager",
            "next_action_on": next_on if rng.random() < 0.9 else None,
            "opened_on": opened,
            "created_at": updated,
            "updated_at": updated,
            "version": 1,
        }


def evidence_rows(
    rng: random.Random, count: int, region_ids: Sequence[int], metric_ids: Sequence[int], start: int = 1
) -> Iterator[dict[str, Any]]:
    places: list[int | None] = [*region_ids, None]
    moment = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC)
    for n in range(start, start + count):
        yield {
            "reference": f"EV-S{n:09d}",
            "fingerprint": f"scale-{n:058d}",
            "region_id": rng.choice(places),
            "metric_id": rng.choice(metric_ids),
            "value": rng.randint(0, 20000) / 100,
            "as_of": TODAY - timedelta(days=rng.randint(0, 3650)),
            "source_type": "rep_survey",
            "source_title": "",
            "source_publisher": "",
            "source_url": "",
            "is_verified": rng.random() < 0.9,
            "visibility": "internal",
            "created_at": moment,
            "version": 1,
        }


def add_cases(
    rng: random.Random,
    count: int,
    region_ids: Sequence[int],
    rep_ids: Sequence[int],
    start: int = 1,
    progress: Callable[[int], None] | None = None,
) -> int:
    table = cast(Table, Case.__table__)
    return _in_batches(table, case_rows(rng, count, region_ids, rep_ids, start), progress)


def add_rows(table: Table, rows: Iterator[dict[str, Any]], progress: Callable[[int], None] | None = None) -> int:
    """Rows a benchmark shaped itself (``case_rows`` with other titles, say), inserted in bulk."""
    return _in_batches(table, rows, progress)


def add_evidence(
    rng: random.Random,
    count: int,
    region_ids: Sequence[int],
    start: int = 1,
    progress: Callable[[int], None] | None = None,
) -> int:
    metric_ids = list(db.session.scalars(select(Metric.id)))
    table = cast(Table, EvidenceItem.__table__)
    return _in_batches(table, evidence_rows(rng, count, region_ids, metric_ids, start), progress)
