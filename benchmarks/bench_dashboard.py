"""Benchmark: the national dashboard's aggregation over 1,000,000 evidence items.

    .venv/bin/python benchmarks/bench_dashboard.py [--items 1000000] [--database-url URL]

Fills a fresh migrated SQLite database (or the one given by URL: migrated and filled on the
first run, reused as it is on later runs) with generated items by bare executemany, then
times ``services.aggregate`` over the headline
metrics, exactly as /dashboard calls it, against one hand-written SQL GROUP BY that computes
the same groups. Best of five runs each.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sized
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HAND_WRITTEN = {
    "sqlite": """
        SELECT metric_id, region_id, substr(as_of, 1, 7) AS period, count(*), min(value), max(value), sum(value),
               sum(reporter_count), count(reporter_count)
        FROM evidence_items
        WHERE value IS NOT NULL AND metric_id IS NOT NULL AND metric_id IN ({ids})
        GROUP BY metric_id, region_id, period
        ORDER BY metric_id, region_id, period""",
    "postgresql": """
        SELECT metric_id, region_id, to_char(as_of, 'YYYY-MM') AS period, count(*), min(value), max(value),
               sum(value), sum(reporter_count), count(reporter_count)
        FROM evidence_items
        WHERE value IS NOT NULL AND metric_id IS NOT NULL AND metric_id IN ({ids})
        GROUP BY metric_id, region_id, period
        ORDER BY metric_id, region_id, period""",
}


def fill(items: int) -> None:
    from sqlalchemy import Table, insert, select

    from napo_tracker.evidence.models import EvidenceItem, Metric
    from napo_tracker.extensions import db
    from napo_tracker.regions.models import Region

    rng = random.Random(1)
    metric_ids = list(db.session.scalars(select(Metric.id)))
    region_ids = list(db.session.scalars(select(Region.id))) + [None]
    now = datetime.now(UTC)
    start = date(2015, 1, 1)
    batch = []
    for n in range(1, items + 1):
        batch.append(
            {
                "reference": f"EV-{n:07d}",
                "fingerprint": f"{n:064d}",
                "region_id": rng.choice(region_ids),
                "metric_id": rng.choice(metric_ids),
                "value": rng.randint(0, 20000) / 100,
                "as_of": start + timedelta(days=rng.randint(0, 3650)),
                "source_type": "rep_survey",
                "source_title": "",
                "source_publisher": "",
                "source_url": "",
                "is_verified": False,
                "visibility": "internal",
                "created_at": now,
                "version": 1,
            }
        )
        if len(batch) == 50_000:
            db.session.execute(insert(cast(Table, EvidenceItem.__table__)), batch)
            batch = []
            print(f"\r  {n:,} items", end="", flush=True)
    if batch:
        db.session.execute(insert(cast(Table, EvidenceItem.__table__)), batch)
    db.session.commit()
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()
    print()


def best_of(fn: Callable[[], Sized], runs: int = 5) -> tuple[float, Sized]:
    best, result = float("inf"), fn()
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--fill-only", action="store_true", help="Fill the database and stop.")
    args = parser.parse_args()
    from flask_migrate import upgrade
    from sqlalchemy import select

    from napo_tracker import create_app
    from napo_tracker.crypto import generate_key
    from napo_tracker.evidence.models import Metric
    from napo_tracker.evidence.services import HEADLINE_CODES, aggregate
    from napo_tracker.extensions import db
    from napo_tracker.regions.demo import load as load_regions

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/dashboard.sqlite"
        app = create_app("development", SQLALCHEMY_DATABASE_URI=url, DATA_KEYS=generate_key())
        with app.app_context():
            upgrade()
            from napo_tracker.evidence.models import EvidenceItem

            if not db.session.scalar(select(EvidenceItem.id).limit(1)):
                load_regions(lambda *_: None)
                db.session.commit()
                print(f"filling {args.items:,} items…")
                fill(args.items)
            if args.fill_only:
                return
            ids = list(db.session.scalars(select(Metric.id).where(Metric.code.in_(HEADLINE_CODES))))
            sql = db.text(HAND_WRITTEN[db.engine.dialect.name].format(ids=",".join(map(str, ids))))
            ours, groups = best_of(lambda: aggregate(ids))
            raw, rows = best_of(lambda: db.session.execute(sql).all())
            assert len(groups) == len(rows), (len(groups), len(rows))
            print(f"dashboard aggregation ({len(groups):,} groups): {ours:.3f} s")
            print(f"hand-written GROUP BY: {raw:.3f} s; ratio {ours / raw:.2f}x")
            from types import SimpleNamespace

            from napo_tracker.evidence.services import dashboard_data

            whole, _ = best_of(lambda: dashboard_data(SimpleNamespace(role="official")), runs=3)
            print(f"whole national dashboard data (aggregation, latest per region, trend): {whole:.3f} s")


if __name__ == "__main__":
    main()
