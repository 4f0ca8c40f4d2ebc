"""Benchmark: the evidence CSV export of 100,000 items, streamed.

    .venv/bin/python benchmarks/bench_evidence_export.py [--rows 100000] [--database-url URL]

Reports how soon the first bytes of the download leave, how long the whole file takes, its
size, and the peak resident memory of the process that sends it, for a tenth of the rows
and for all of them (streamed: the two should be close). Each run uses a fresh migrated
SQLite database in a temporary folder unless a URL is given; the items are imported first
through the importer, in a process of their own.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

OFFICIAL = "bench.official@example.org"


def _app(url: str):
    from napo_tracker import create_app

    # Limits raised: the export's own speed and memory are measured here, not the limits.
    return create_app(
        "development", SQLALCHEMY_DATABASE_URI=url, IMPORT_MAX_ROWS=10_000_000, EXPORT_MAX_ROWS=10_000_000
    )


def prepare(url: str, rows: int) -> None:
    from flask_migrate import upgrade

    from napo_tracker.accounts.services import create_user
    from napo_tracker.evidence.importer import HEADER, import_csv
    from napo_tracker.extensions import db
    from napo_tracker.regions.demo import load as load_regions

    app = _app(url)
    with app.app_context():
        upgrade()
        load_regions(lambda *_: None)
        create_user(None, email=OFFICIAL, display_name="Bench", role="official", password="bench password long enough")
        lines = [",".join(HEADER)] + [
            f"London,,caseload,{n},2024-01-31,,rep survey,Survey {n},A statement about workload number {n}."
            for n in range(rows)
        ]
        report = import_csv(None, io.BytesIO("\r\n".join(lines).encode()), filename="bench.csv")
        assert report.is_ok, report.summary()
        db.session.commit()


def run_export(url: str, queue) -> None:
    from sqlalchemy import select

    from napo_tracker.accounts.models import User
    from napo_tracker.accounts.sessions import start_session
    from napo_tracker.extensions import db

    app = _app(url)
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == OFFICIAL)).one()
        token, user_id = start_session(user), user.id
        db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}:{token}"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = client.get("/evidence/export.csv")
    body = iter(response.response)
    first = next(body)
    first_bytes = time.perf_counter() - started
    size = len(first) + sum(len(chunk) for chunk in body)
    queue.put(
        {
            "status": response.status_code,
            "first_bytes_s": first_bytes,
            "seconds": time.perf_counter() - started,
            "mb": size / 1e6,
            "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "before_kb": before,
        }
    )


def measure(url: str, rows: int) -> dict:
    context = multiprocessing.get_context("spawn")
    for target, args in ((prepare, (url, rows)), (run_export, (url,))):
        queue = context.Queue() if target is run_export else None
        process = context.Process(target=target, args=(*args, queue) if queue is not None else args)
        process.start()
        result = queue.get() if queue is not None else None
        process.join()
        assert process.exitcode == 0, f"{target.__name__} failed"
    assert result is not None and result["status"] == 200, result
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    results = []
    for rows in (args.rows // 10, args.rows):
        with tempfile.TemporaryDirectory() as folder:
            url = args.database_url or f"sqlite:///{os.path.join(folder, 'bench.sqlite')}"
            results.append((rows, measure(url, rows)))
    for rows, r in results:
        print(
            f"{rows:>9,} items: first bytes after {r['first_bytes_s'] * 1000:.0f} ms, "
            f"all {r['mb']:.1f} MB in {r['seconds']:.1f} s; "
            f"peak RSS {r['peak_kb'] / 1024:.0f} MB (before the export {r['before_kb'] / 1024:.0f} MB)"
        )


if __name__ == "__main__":
    main()
