"""Benchmark: importing a generated 100,000-row evidence CSV.

    python -m benchmarks.bench_evidence_import [--rows 100000] [--pairs 3]

Reports rows per second, the peak resident memory of an import of a tenth of the rows and
of all of them (flat memory: the two should be close), and the ratio of the import's time
to a bare ``executemany`` of the same, already validated rows into the same table. The two
are interleaved (import, bare, import, bare, …), each into a fresh migrated SQLite database
in a child process, and the ratio is given as min / median / max over the pairs.
Target: ratio ≤ 3, flat memory.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

from napo_tracker.crypto import generate_key

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import fmt, ratios, spread, write_result

METRICS = ["wmt_percent_avg", "staff_over_100_pct", "staff_over_120_pct", "unallocated_cases", "vacancies", "caseload"]


def write_csv(path: Path, rows: int) -> None:
    from napo_tracker.evidence.importer import HEADER
    from napo_tracker.regions.demo import REGIONS

    rng = random.Random(6)
    regions = list(REGIONS)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            region = regions[i % len(regions)]
            unit = REGIONS[region][i % len(REGIONS[region])][0] if i % 3 == 0 else ""
            day = f"{2000 + (i // 4000) % 26}-{1 + (i // 300) % 12:02d}-{1 + i % 28:02d}"
            writer.writerow(
                [
                    region,
                    unit,
                    METRICS[i % len(METRICS)],
                    f"{rng.randint(0, 20000) / 100}",
                    day,
                    "",
                    "rep survey",
                    f"Benchmark survey {i}",
                    "",
                ]
            )


def _app(url: str):
    from napo_tracker import create_app

    # One file far above the row limit a person may import (NAPO_IMPORT_MAX_ROWS): the
    # importer's own speed and memory are measured here, not the limit.
    return create_app("development", SQLALCHEMY_DATABASE_URI=url, IMPORT_MAX_ROWS=10_000_000)


def prepare_database(url: str) -> None:
    from flask_migrate import upgrade

    from napo_tracker.extensions import db
    from napo_tracker.regions.demo import load as load_regions

    app = _app(url)
    with app.app_context():
        upgrade()
        load_regions(lambda *_: None)
        db.session.commit()


def run_import(url: str, path: Path, queue) -> None:
    from napo_tracker.evidence.importer import import_csv
    from napo_tracker.extensions import db

    app = _app(url)
    with app.app_context():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        with path.open("rb") as stream:
            report = import_csv(None, stream, filename=path.name)
        db.session.commit()
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        queue.put(
            {
                "ok": report.is_ok,
                "added": report.added,
                "seconds": elapsed,
                "peak_kb": peak,
                "before_kb": before,
                "summary": report.summary(),
            }
        )


def run_executemany(url: str, path: Path, queue) -> None:
    """The same rows, validated beforehand (not timed), inserted by one bare executemany."""
    from sqlalchemy import Table, delete, insert

    from napo_tracker.evidence.importer import _Lookups, _row_to_item
    from napo_tracker.evidence.models import EvidenceItem
    from napo_tracker.evidence.services import fingerprint, format_reference
    from napo_tracker.extensions import db

    app = _app(url)
    with app.app_context():
        db.session.execute(delete(EvidenceItem))
        db.session.commit()
        lookups = _Lookups(None, "")
        rows = []
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            for n, cells in enumerate(reader, start=1):
                values, _ = _row_to_item(dict(zip(header, cells, strict=True)), lookups)
                assert values is not None, f"row {n} of the generated file is bad"
                values["fingerprint"] = fingerprint(**values)
                rows.append(
                    {
                        **values,
                        "reference": format_reference(n),
                        "created_at": None,
                        "visibility": "internal",
                        "is_verified": False,
                        "source_publisher": "",
                        "source_url": "",
                        "version": 1,
                    }
                )
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        for row in rows:
            row["created_at"] = now
        started = time.perf_counter()
        db.session.execute(insert(cast(Table, EvidenceItem.__table__)), rows)
        db.session.commit()
        queue.put({"seconds": time.perf_counter() - started})


def in_child(target, *args):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        small, large = folder / "small.csv", folder / "large.csv"
        write_csv(small, args.rows // 10)
        write_csv(large, args.rows)
        print(f"generated {args.rows:,} rows ({large.stat().st_size / 1e6:.1f} MB)", flush=True)

        def fresh(name: str) -> str:
            url = f"sqlite:///{folder / (name + '.sqlite')}"
            prepare_database(url)
            return url

        small_run = in_child(run_import, fresh("small"), small)
        assert small_run["ok"], small_run["summary"]
        imports, bares, peaks = [], [], []
        for pair in range(1, args.pairs + 1):  # interleaved: import, bare, import, bare, …
            run = in_child(run_import, fresh(f"import-{pair}"), large)
            assert run["ok"], run["summary"]
            bare = in_child(run_executemany, fresh(f"bare-{pair}"), large)
            imports.append(run["seconds"])
            bares.append(bare["seconds"])
            peaks.append(run["peak_kb"])
            print(f"pair {pair}: import {run['seconds']:.2f} s, bare executemany {bare['seconds']:.2f} s", flush=True)
    ratio = ratios(imports, bares)
    print(f"import of {args.rows:,} rows: {fmt(spread(imports), ' s')} (min / median / max)")
    print(f"bare executemany of the same rows: {fmt(spread(bares), ' s')}")
    print(f"ratio import / bare: {fmt(ratio)} (target ≤ 3) -> {'met' if ratio['median'] <= 3 else 'NOT met'}")
    print(
        f"peak RSS: {small_run['peak_kb'] / 1024:.0f} MB for {args.rows // 10:,} rows, "
        f"{max(peaks) / 1024:.0f} MB for {args.rows:,} rows (process baseline {small_run['before_kb'] / 1024:.0f} MB)"
    )
    write_result(
        "evidence_import",
        {
            "rows": args.rows,
            "import_s": spread(imports),
            "bare_s": spread(bares),
            "ratio": ratio,
            "rows_per_second_median": round(args.rows / spread(imports)["median"]),
            "peak_mb_small": round(small_run["peak_kb"] / 1024),
            "peak_mb_large": round(max(peaks) / 1024),
        },
    )


if __name__ == "__main__":
    os.environ.setdefault("NAPO_CONFIG", "development")
    # One data key for this run, shared by the processes it starts.
    os.environ.setdefault("NAPO_DATA_KEYS", generate_key())
    main()
