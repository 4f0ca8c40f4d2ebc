"""Benchmark: pages as the tables grow, on PostgreSQL (or SQLite).

    python -m benchmarks.bench_scale [--backend postgresql|sqlite] [--largest] [--runs 25]

Fills a fresh migrated database (a throwaway PostgreSQL cluster, as the tests start one, or a
SQLite file) step by step with generated cases and evidence items (COPY on PostgreSQL, batched
executemany on SQLite; benchmarks/bulk.py), and at each size times, in-process through the
test client with a logged-in session (routing, session, the ORM, Jinja; no network):

- the home page as the London rep and as a national official (median of --runs, with
  min and max);
- the national dashboard as an official, the first request after the chart cache is
  emptied (charts drawn) and then warm (charts from the cache, data queried afresh);
- the API's first page and a deep page (a cursor two years back) as the official.

The page's cost is judged on this process's CPU time plus PostgreSQL's own planning and
execution time for the statements the page ran (EXPLAIN ANALYZE); the wall time is shown
beside it. Sizes: 100k cases + 100k items, then 1M items, then 1M cases; with --largest, 10M items
too (about an hour to load here). After each load the database's statistics are refreshed
(VACUUM ANALYZE / ANALYZE), as autovacuum would. Targets: home ≤ 15 ms at 100k cases and 1M
items; the dashboard warm ≤ 100 ms at 1M items.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from benchmarks.common import fmt, postgresql, spread, write_result

HOME_TARGET_MS = 15
DASHBOARD_TARGET_MS = 100
STEPS = [(100_000, 100_000), (100_000, 1_000_000), (1_000_000, 1_000_000)]
LARGEST = (1_000_000, 10_000_000)
PASSWORD = "benchmark passphrase of some length 41"


@contextlib.contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "postgresql":
        with postgresql() as make_database:
            yield make_database("scale")
    else:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/scale.sqlite"


class Clock:
    """Wall time of each request, the CPU time this process spent on it, and the wall time
    spent waiting for the database's answers: on a shared machine the wall time also counts
    other programs' turns on the CPUs; the other two say what the page itself costs."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.in_database = 0.0
        self._started = 0.0

        def before(*_args) -> None:
            self._started = time.perf_counter()

        def after(*_args) -> None:
            self.in_database += time.perf_counter() - self._started

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)

    def server_ms(self, get, path: str, repeats: int = 5) -> float | None:
        """PostgreSQL's own planning and execution time for the statements of one request
        (EXPLAIN ANALYZE, median of ``repeats``): the database's share of the page without the
        waits for a CPU that a loaded machine adds to every round trip."""
        from sqlalchemy import event

        from napo_tracker.extensions import db

        if db.engine.dialect.name != "postgresql":
            return None
        seen: list[tuple[str, Any]] = []

        def record(conn, cursor, statement, parameters, context, executemany) -> None:
            seen.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            get(path)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        totals = []
        connection = db.session.connection()
        for _ in range(repeats):
            total = 0.0
            for statement, parameters in seen:
                for (line,) in connection.exec_driver_sql("EXPLAIN (ANALYZE, SUMMARY) " + statement, parameters):
                    if line.startswith(("Planning Time", "Execution Time")):
                        total += float(line.split()[2])
            totals.append(total)
        db.session.rollback()
        return round(statistics.median(totals), 2)

    def timed(self, get, path: str, runs: int) -> dict[str, Any]:
        wall, cpu, database = [], [], []
        for _ in range(runs):
            self.in_database = 0.0
            started, started_cpu = time.perf_counter(), time.process_time()
            get(path)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            database.append(self.in_database * 1000)
        return {
            "wall": spread(wall),
            "cpu": spread(cpu),
            "database": spread(database),
            "server": self.server_ms(get, path),
        }


def _show(name: str, timing: dict[str, Any]) -> str:
    server = f"; PostgreSQL's own time {timing['server']:.1f} ms" if timing["server"] is not None else ""
    return (
        f"  {name:<16} wall {fmt(timing['wall'], ' ms', places=1)}; app CPU {fmt(timing['cpu'], ' ms', places=1)}; "
        f"waiting for the database {fmt(timing['database'], ' ms', places=1)}{server}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--largest", action="store_true", help="also 10M evidence items (slow to load)")
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size (0.01 for a quick check)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the throwaway cluster on kill too

    from flask import g
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from benchmarks import bulk
    from napo_tracker import cache, create_app
    from napo_tracker.accounts.services import create_user
    from napo_tracker.accounts.sessions import start_session
    from napo_tracker.extensions import db
    from napo_tracker.regions import demo as regions_demo
    from napo_tracker.regions.models import Region, region_by_name

    steps = [(int(c * args.scale), int(i * args.scale)) for c, i in STEPS + ([LARGEST] if args.largest else [])]
    results: list[dict[str, Any]] = []
    with database(args.backend) as url, tempfile.TemporaryDirectory() as files:
        app = create_app("development", SQLALCHEMY_DATABASE_URI=url, INSTANCE_FILES_DIR=files)
        with app.app_context():
            upgrade()
            regions_demo.load(lambda *_: None)
            db.session.commit()
            london = region_by_name("London")
            assert london is not None
            rep = create_user(
                None, email="rep@bench.test", display_name="Rep", role="rep", password=PASSWORD, regions=[london]
            )
            official = create_user(
                None, email="official@bench.test", display_name="Official", role="official", password=PASSWORD
            )
            db.session.commit()
            region_ids = list(db.session.scalars(select(Region.id)))
            reps = [rep.id] + [
                create_user(
                    None,
                    email=f"rep{n}@bench.test",
                    display_name=f"Rep {n}",
                    role="rep",
                    password=PASSWORD,
                    regions=[region],
                ).id
                for n, region in enumerate(db.session.scalars(select(Region).order_by(Region.id)))
            ]
            db.session.commit()
            cookies = {who: f"{user.id}:{start_session(user)}" for who, user in (("rep", rep), ("official", official))}
            db.session.commit()
            client = app.test_client()
            clock = Clock(db.engine)
            rng = random.Random(14)
            have_cases = have_items = 0

            def as_user(who: str):
                with client.session_transaction() as session:
                    session["_user_id"] = cookies[who]
                    session["_fresh"] = True

            def get(path: str) -> Any:
                db.session.remove()  # a fresh session and g per request, as in production
                g.__dict__.clear()
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
                return response

            for cases, items in steps:
                started = time.perf_counter()

                def progress(done: int, what: str = "") -> None:
                    print(f"\r  {what} +{done:,}", end="", flush=True)

                if cases > have_cases:
                    bulk.add_cases(
                        rng,
                        cases - have_cases,
                        region_ids,
                        reps,
                        start=have_cases + 1,
                        progress=lambda d: progress(d, "cases"),
                    )
                    have_cases = cases
                if items > have_items:
                    bulk.add_evidence(
                        rng,
                        items - have_items,
                        region_ids,
                        start=have_items + 1,
                        progress=lambda d: progress(d, "items"),
                    )
                    have_items = items
                db.session.commit()
                loaded = time.perf_counter() - started
                started = time.perf_counter()
                if args.backend == "postgresql":
                    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                        connection.execute(text("VACUUM ANALYZE"))
                else:
                    db.session.execute(text("ANALYZE"))
                    db.session.commit()
                print(
                    f"\n{cases:,} cases, {items:,} items: loaded in {loaded:.0f} s, statistics in "
                    f"{time.perf_counter() - started:.0f} s",
                    flush=True,
                )
                row: dict[str, Any] = {"cases": cases, "items": items, "load_seconds": round(loaded)}
                for who in ("rep", "official"):
                    as_user(who)
                    get("/")  # compile templates and statements once
                    row[f"home_{who}_ms"] = clock.timed(get, "/", args.runs)
                as_user("official")
                cache.clear_local()
                started = time.perf_counter()
                get("/dashboard")
                row["dashboard_cold_ms"] = round((time.perf_counter() - started) * 1000, 1)
                row["dashboard_warm_ms"] = clock.timed(get, "/dashboard", args.runs)
                first = get("/api/v1/evidence?per_page=50").get_json()
                assert first["next_cursor"]
                deep = (
                    base64.urlsafe_b64encode(f"{bulk.TODAY.replace(year=bulk.TODAY.year - 2).isoformat()}/1".encode())
                    .decode()
                    .rstrip("=")
                )
                row["api_first_ms"] = clock.timed(get, "/api/v1/evidence?per_page=50", args.runs)
                row["api_deep_ms"] = clock.timed(get, f"/api/v1/evidence?per_page=50&cursor={deep}", args.runs)
                results.append(row)
                print(
                    "\n".join(
                        [
                            _show("home, rep", row["home_rep_ms"]),
                            _show("home, official", row["home_official_ms"]),
                            f"  dashboard cold   {row['dashboard_cold_ms']} ms (charts drawn)",
                            _show("dashboard warm", row["dashboard_warm_ms"]),
                            _show("API first page", row["api_first_ms"]),
                            _show("API deep page", row["api_deep_ms"]),
                            f"  (min / median / max of {args.runs}; load average {os.getloadavg()[0]:.1f})",
                        ]
                    ),
                    flush=True,
                )
    target = next((r for r in results if (r["cases"], r["items"]) == steps[1]), None)
    verdict = {}
    if target:
        # Judged on what the page costs (this process's CPU time, plus PostgreSQL's own planning
        # and execution time), shown beside the wall time, which on a shared machine also
        # counts other programs' turns on the CPUs, at every round trip to the database.
        def cost(timing: dict[str, Any]) -> float:
            # SQLite answers inside this process: its time is already in the CPU time.
            return timing["cpu"]["median"] + (timing["server"] or 0.0)

        home = max(cost(target["home_rep_ms"]), cost(target["home_official_ms"]))
        home_wall = max(target["home_rep_ms"]["wall"]["median"], target["home_official_ms"]["wall"]["median"])
        dash = cost(target["dashboard_warm_ms"])
        verdict = {
            "home_cost_ms": round(home, 1),
            "home_wall_ms": home_wall,
            "home_target_ms": HOME_TARGET_MS,
            "home_met": home <= HOME_TARGET_MS,
            "dashboard_cost_ms": round(dash, 1),
            "dashboard_wall_ms": target["dashboard_warm_ms"]["wall"]["median"],
            "dashboard_target_ms": DASHBOARD_TARGET_MS,
            "dashboard_met": dash <= DASHBOARD_TARGET_MS,
        }
        print(
            f"\nhome at {steps[1][0]:,} cases / {steps[1][1]:,} items: {home:.1f} ms app CPU (+ database) "
            f"(wall {home_wall:.1f} ms; target ≤ {HOME_TARGET_MS}) -> {'met' if verdict['home_met'] else 'NOT met'}"
        )
        print(
            f"dashboard warm at {steps[1][1]:,} items: {dash:.1f} ms app CPU (+ database) (wall "
            f"{verdict['dashboard_wall_ms']:.1f} ms; target ≤ {DASHBOARD_TARGET_MS}) -> "
            f"{'met' if verdict['dashboard_met'] else 'NOT met'}"
        )
    path = write_result(
        f"scale_{args.backend}", {"backend": args.backend, "runs": args.runs, "steps": results, **verdict}
    )
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
