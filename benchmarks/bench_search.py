"""Benchmark: the search page (``/search?q=``) over 100,000 cases, on SQLite and PostgreSQL.

    python -m benchmarks.bench_search [--backend sqlite|postgresql|both] [--cases 100000]
                                      [--evidence 20000] [--runs 21]

Fills a fresh migrated database (a SQLite file, or a throwaway PostgreSQL cluster as the
tests start one) with the demo regions, a rep of London and an official, N generated cases
(benchmarks/bulk.py, titled from a vocabulary where a few words are common and most are
rare, as a union's case titles are) and evidence items; the triggers of migration 0016 index
them as they land, as in production. Then, for each search as the rep and as the official, it
times, interleaved (A B A B …, so the machine's load weighs on both alike):

A. the page through the app (test client: routing, login gate, session, the search service,
   Jinja), and
B. the search's own SQL statement alone on a raw DB-API connection (execute, fetch every row),

and prints the page's median, min and max, the SQL's median and the per-pair ratio
(min / median / max). Target: the page's median ≤ 100 ms at 100,000 cases on both databases.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any, cast

from benchmarks.common import fmt, interleaved, postgresql, ratios, spread, write_result

TARGET_MS = 100
PASSWORD = "benchmark passphrase of some length 41"
# (who, what is typed, what it stands for)
SEARCHES = [
    ("rep", "caseload", "a word in half of all titles"),
    ("official", "caseload", "a word in half of all titles"),
    ("official", "caseload cover", "two common words"),
    ("official", "harbour", "a rare word (prefix)"),
    ("rep", "mappa sickness travel", "three words"),
    ("official", "CASE-S-00054321", "a reference"),
    ("official", '\'; NEAR("cover" -', "FTS syntax"),
    ("rep", '"*(): -^', "punctuation alone"),
]
COMMON = ["caseload", "cover", "allocation", "sickness", "WMT", "MAPPA", "reports", "travel", "office", "leave"]
RARE = [f"{stem}{n}" for stem in ("harbour", "quill", "lantern", "orchard", "meadow") for n in range(200)]


def _titled(rows: Iterator[dict[str, Any]], rng: random.Random) -> Iterator[dict[str, Any]]:
    """Case titles of three or four words from ten common ones, "caseload" in about half of them
    (put first in a third), and a rare word in one title in four."""
    for row in rows:
        words = [rng.choice(COMMON) for _ in range(3)]
        if rng.random() < 0.33:
            words[0] = "caseload"
        if rng.random() < 0.25:
            words.append(rng.choice(RARE))
        yield row | {"title": " ".join(words).capitalize()}


def run(backend: str, url: str, cases: int, evidence: int, runs: int) -> list[dict[str, Any]]:
    from flask import g
    from sqlalchemy import Table, event, select, text

    from benchmarks import bulk
    from napo_tracker import create_app
    from napo_tracker.accounts.services import create_user
    from napo_tracker.accounts.sessions import start_session
    from napo_tracker.cases.models import Case
    from napo_tracker.crypto import generate_key
    from napo_tracker.extensions import db
    from napo_tracker.regions import demo as regions_demo
    from napo_tracker.regions.models import Region, region_by_name

    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as files:
        app = create_app("development", SQLALCHEMY_DATABASE_URI=url, INSTANCE_FILES_DIR=files, DATA_KEYS=generate_key())
        with app.app_context():
            from flask_migrate import upgrade

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
            rng = random.Random(16)
            started = time.perf_counter()
            bulk.add_rows(cast(Table, Case.__table__), _titled(bulk.case_rows(rng, cases, region_ids, [rep.id]), rng))
            bulk.add_evidence(rng, evidence, region_ids)
            db.session.commit()
            print(
                f"{backend}: {cases:,} cases and {evidence:,} evidence items indexed"
                f" in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            with db.engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()
            cookies = {who: f"{user.id}:{start_session(user)}" for who, user in (("rep", rep), ("official", official))}
            db.session.commit()
            client = app.test_client()
            engine = db.engine

            print(f"\n{'search':<52} {'found':>5} {'page ms min / med / max':>26} {'SQL ms':>7} {'ratio':>18}")
            for who, typed, meaning in SEARCHES:
                with client.session_transaction() as session:
                    session["_user_id"] = cookies[who]
                    session["_fresh"] = True

                def page(typed: str = typed) -> Any:
                    db.session.remove()  # a fresh session and g per request, as in production
                    g.__dict__.clear()
                    response = client.get("/search", query_string={"q": typed})
                    assert response.status_code == 200, response.status_code
                    return response

                page()  # warm: templates, compiled SQL, the database's cache
                captured: list[tuple[str, Any]] = []

                def capture(conn, cursor, statement, parameters, context, executemany, captured=captured):
                    if "search_entries" in statement:
                        captured.append((statement, parameters))

                event.listen(engine, "before_cursor_execute", capture)
                found = page().get_data(as_text=True).count("<tr") - 1
                event.remove(engine, "before_cursor_execute", capture)
                raw = engine.raw_connection()

                def sql(raw: Any = raw, statements: list[tuple[str, Any]] = captured) -> None:
                    cursor = raw.cursor()
                    for statement, parameters in statements:
                        cursor.execute(statement, parameters)
                        cursor.fetchall()
                    cursor.close()
                    raw.rollback()

                try:
                    page_times, sql_times = interleaved(page, sql, runs)
                finally:
                    raw.close()
                timing = spread([t * 1000 for t in page_times])
                sql_ms = spread([t * 1000 for t in sql_times])["median"] if captured else 0.0
                ratio = ratios(page_times, sql_times) if captured else {"min": 0.0, "median": 0.0, "max": 0.0}
                label = f"{who} {typed!r} ({meaning})"
                print(
                    f"{label[:52]:<52} {max(found, 0):>5} {fmt(timing, places=1):>26} {sql_ms:>7.1f} {fmt(ratio):>18}",
                    flush=True,
                )
                results.append(
                    {
                        "backend": backend,
                        "who": who,
                        "q": typed,
                        "meaning": meaning,
                        "found": max(found, 0),
                        "page_ms": timing,
                        "sql_ms": sql_ms,
                        "ratio": ratio,
                    }
                )
            db.session.remove()
            db.engine.dispose()
    worst = max(r["page_ms"]["median"] for r in results)
    print(
        f"\n{backend}: slowest median page {worst:.1f} ms (target ≤ {TARGET_MS} ms): "
        f"{'met' if worst <= TARGET_MS else 'NOT met'}\n"
    )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--evidence", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the throwaway cluster on kill too
    results: list[dict[str, Any]] = []
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            results += run("sqlite", f"sqlite:///{folder}/search.sqlite", args.cases, args.evidence, args.runs)
    if args.backend in ("postgresql", "both"):
        with postgresql() as make_database:
            results += run("postgresql", make_database("search"), args.cases, args.evidence, args.runs)
    write_result("search", {"cases": args.cases, "evidence": args.evidence, "runs": args.runs, "searches": results})
    return 0 if all(r["page_ms"]["median"] <= TARGET_MS for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
