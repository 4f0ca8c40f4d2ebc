"""Benchmark: the national dashboard over 1,000,000 evidence items.

    python -m benchmarks.bench_dashboard [--items 1000000] [--pairs 7] [--database-url URL]

Fills a fresh migrated SQLite database (or the one given by URL: migrated and filled on the
first run, reused as it is on later runs) with generated items (benchmarks/bulk.py), then,
interleaved (ours, theirs, ours, theirs, …), with min / median / max of the per-pair ratios:

1. ``services.aggregate`` over the headline metrics against one hand-written SQL GROUP BY
   that computes the same groups (target ≤ 1.5×);
2. the whole dashboard's data (``dashboard_data``: each place's latest month and two years of
   trend) against that same whole-table GROUP BY, which is what the dashboard used to cost;
3. the dashboard page itself, warm (charts from the cache), through the test client as an
   official (target ≤ 100 ms).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import fmt, interleaved, ratios, spread, write_result

PASSWORD = "benchmark passphrase of some length 41"
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

    from sqlalchemy import select

    from benchmarks import bulk
    from napo_tracker.extensions import db
    from napo_tracker.regions.models import Region

    region_ids = list(db.session.scalars(select(Region.id)))
    bulk.add_evidence(random.Random(1), items, region_ids, progress=lambda n: print(f"\r  {n:,} items", end=""))
    db.session.commit()
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--fill-only", action="store_true", help="Fill the database and stop.")
    parser.add_argument("--pairs", type=int, default=7)
    args = parser.parse_args()
    from types import SimpleNamespace

    from flask import g
    from flask_migrate import upgrade
    from sqlalchemy import select

    from napo_tracker import create_app
    from napo_tracker.accounts.services import create_user
    from napo_tracker.accounts.sessions import start_session
    from napo_tracker.crypto import generate_key
    from napo_tracker.evidence.models import Metric
    from napo_tracker.evidence.services import HEADLINE_CODES, aggregate, dashboard_data
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
            assert len(aggregate(ids)) == len(db.session.execute(sql).all())
            ours, raw = interleaved(lambda: aggregate(ids), lambda: db.session.execute(sql).all(), args.pairs)
            viewer = SimpleNamespace(role="official")
            whole, raw2 = interleaved(lambda: dashboard_data(viewer), lambda: db.session.execute(sql).all(), args.pairs)
            from napo_tracker.accounts.models import User

            official = db.session.scalar(select(User).where(User.email == "official@bench.test")) or create_user(
                None, email="official@bench.test", display_name="Official", role="official", password=PASSWORD
            )  # a database kept from an earlier run (--database-url) has them already
            cookie = f"{official.id}:{start_session(official)}"
            db.session.commit()
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = cookie
                session["_fresh"] = True

            def page() -> None:
                db.session.remove()
                g.__dict__.clear()
                assert client.get("/dashboard").status_code == 200

            page()  # draws the charts once
            pages, _ = interleaved(page, lambda: None, args.pairs)
    aggregation, data = ratios(ours, raw), ratios(whole, raw2)
    print(
        f"services.aggregate: {fmt(spread(ours), ' s', places=3)}; "
        f"hand-written GROUP BY {fmt(spread(raw), ' s', places=3)}"
    )
    print(f"  ratio {fmt(aggregation)} (target ≤ 1.5) -> {'met' if aggregation['median'] <= 1.5 else 'NOT met'}")
    print(f"dashboard data: {fmt(spread(whole), ' s', places=3)}; ratio to the whole-table GROUP BY {fmt(data)}")
    page_ms = spread([t * 1000 for t in pages])
    print(
        f"dashboard page, warm: {fmt(page_ms, ' ms', places=1)} (target ≤ 100 ms) -> "
        f"{'met' if page_ms['median'] <= 100 else 'NOT met'}  (min / median / max of {args.pairs})"
    )
    write_result(
        "dashboard",
        {
            "items": args.items,
            "aggregate_s": spread(ours),
            "group_by_s": spread(raw),
            "aggregate_ratio": aggregation,
            "dashboard_data_s": spread(whole),
            "dashboard_data_ratio_to_group_by": data,
            "page_warm_ms": page_ms,
        },
    )


if __name__ == "__main__":
    main()
