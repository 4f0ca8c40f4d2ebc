"""Benchmark: the filtered case list page over 100,000 cases, against the SQL it issues.

    .venv/bin/python -m benchmarks.bench_case_list [--cases 100000] [--runs 21]

Fills a fresh migrated SQLite database with the demo regions and users and N generated
cases (bare executemany), then, for a few filtered list pages as a rep and as an official:

1. requests the page through the app (test client: routing, login gate, session, form
   parsing, the ORM, Jinja) and takes the median server time;
2. captures the SQL statements that request issued and times them alone on a raw DB-API
   connection (execute and fetch every row), median of the same number of runs;
3. prints both and the ratio, min / median / max over the runs (page and SQL alternate, so
   the machine's load weighs on both alike). Target: the page costs no more than 3 times its
   queries.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import fmt, spread, write_result

PAGES = [
    ("rep", "/cases/?status=open"),
    ("rep", "/cases/?view=overdue&sort=next_action_on"),
    ("rep", "/cases/?category=excessive_workload&risk=has_high_risk_cases&sort=wmt_percent&direction=desc"),
    ("official", "/cases/?status=escalated&q=caseload"),
    ("official", "/cases/?region_id={region}&opened_from=2024-01-01&sort=opened_on&page=3"),
]


def _generate(
    n: int,
    region_units: list[tuple[int, int]],
    rep_ids_by_region: dict[int, list[int]],
    categories: list[str],
    statuses: list[str],
):
    rng = random.Random(42)
    today = date.today()
    now = datetime.now(UTC)
    per_year: dict[int, int] = {}
    words = ["caseload", "cover", "WMT", "allocation", "MAPPA", "sickness", "reports", "travel", "office"]
    for i in range(n):
        region_id, unit_id = rng.choice(region_units)
        opened = today - timedelta(days=rng.randint(0, 3650))
        per_year[opened.year] = per_year.get(opened.year, 0) + 1
        reps = rep_ids_by_region.get(region_id, [])
        yield {
            "reference": f"CASE-{opened.year}-{per_year[opened.year]:04d}",
            "region_id": region_id,
            "unit_id": unit_id,
            "member_id": None,
            "category": rng.choice(categories),
            "title": f"Generated case {i}: {rng.choice(words)} {rng.choice(words)}",
            "description": " ".join(rng.choice(words) for _ in range(30)),
            "grade": rng.choice(["PO", "PSO", "PQiP", "NQO", None]),
            "wmt_percent": rng.choice([None, rng.randint(60, 200)]),
            "caseload": rng.choice([None, rng.randint(10, 90)]),
            "has_high_risk_cases": rng.random() < 0.4,
            "has_mappa_cases": rng.random() < 0.15,
            "has_domestic_abuse_cases": rng.random() < 0.2,
            "has_protected_caseload_breach": rng.random() < 0.05,
            "has_no_cover": rng.random() < 0.1,
            "priority": rng.choice(["low", "normal", "normal", "high", "urgent"]),
            "status": rng.choice(statuses),
            "assigned_rep_id": rng.choice(reps) if reps and rng.random() < 0.7 else None,
            "next_action": "Follow up",
            "next_action_on": opened + timedelta(days=rng.randint(0, 120)),
            "outcome": None,
            "has_evidence_consent": rng.random() < 0.5,
            "opened_on": opened,
            "resolved_on": None,
            "closed_on": None,
            "created_by_id": None,
            "created_at": now,
            "updated_at": now - timedelta(minutes=i),
            "updated_by_id": None,
            "version": 1,
        }


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()

    from flask import g
    from flask_migrate import upgrade
    from sqlalchemy import Table, event, insert, select

    from napo_tracker import create_app
    from napo_tracker.accounts import demo as accounts_demo
    from napo_tracker.accounts.models import user_by_email, user_regions
    from napo_tracker.accounts.sessions import start_session
    from napo_tracker.cases.models import Case, CaseCategory, CaseStatus
    from napo_tracker.crypto import generate_key
    from napo_tracker.extensions import db
    from napo_tracker.regions import demo as regions_demo
    from napo_tracker.regions.models import Unit, region_by_name

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            "development",
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp}/bench.sqlite",
            INSTANCE_FILES_DIR=f"{tmp}/files",
            DATA_KEYS=generate_key(),
        )
        with app.app_context():
            upgrade()
            regions_demo.load(lambda *_: None)
            accounts_demo.load(lambda *_: None)
            db.session.commit()
            region_units = [(u.region_id, u.id) for u in db.session.scalars(select(Unit))]
            rep_ids: dict[int, list[int]] = {}
            for user_id, region_id in db.session.execute(select(user_regions.c.user_id, user_regions.c.region_id)):
                rep_ids.setdefault(region_id, []).append(user_id)
            print(f"generating {args.cases:,} cases…", flush=True)
            started = time.perf_counter()
            rows = list(
                _generate(
                    args.cases, region_units, rep_ids, [c.value for c in CaseCategory], [s.value for s in CaseStatus]
                )
            )
            for offset in range(0, len(rows), 10_000):
                db.session.execute(insert(cast(Table, Case.__table__)), rows[offset : offset + 10_000])
            db.session.commit()
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
            print(f"  inserted in {time.perf_counter() - started:.1f} s", flush=True)

            logins = {}  # each role's login cookie value, for a session opened once here
            for role, email in (
                ("rep", "rep.midlands@demo.napo-tracker.test"),
                ("official", "official@demo.napo-tracker.test"),
            ):
                user = user_by_email(email)
                assert user is not None
                logins[role] = f"{user.id}:{start_session(user)}"
            db.session.commit()
            london = region_by_name("London")
            assert london is not None
            london_id = london.id
            client = app.test_client()
            engine = db.engine
            ratios = []
            results: list[dict[str, Any]] = []
            print(
                f"\n{'page':<100} {'rows':>6} {'stmts':>5} {'page ms':>8} {'SQL ms':>7} {'ratio min / med / max':>18}"
            )
            for role, url in PAGES:
                url = url.format(region=london_id)
                with client.session_transaction() as session:
                    session["_user_id"] = logins[role]
                    session["_fresh"] = True

                captured: list[tuple[str, Any]] = []

                def capture(conn, cursor, statement, parameters, context, executemany, captured=captured):
                    captured.append((statement, parameters))

                def get(url=url):
                    # As in production: a fresh session and g for every request (the benchmark keeps
                    # one app context open, which Flask would otherwise reuse, identity map and all).
                    db.session.remove()
                    g.__dict__.clear()
                    response = client.get(url)
                    assert response.status_code == 200, (url, response.status_code)
                    return response

                get()  # warm caches (templates, compiled SQL)
                event.listen(engine, "before_cursor_execute", capture)
                response = get()
                event.remove(engine, "before_cursor_execute", capture)
                statements = list(captured)

                page_times, sql_times = [], []
                raw = engine.raw_connection()
                try:
                    for _ in range(args.runs):  # interleaved, so machine load hits both alike
                        started = time.perf_counter()
                        get()
                        page_times.append(time.perf_counter() - started)
                        started = time.perf_counter()
                        cursor = raw.cursor()
                        for statement, parameters in statements:
                            cursor.execute(statement, parameters)
                            cursor.fetchall()
                        cursor.close()
                        raw.rollback()
                        sql_times.append(time.perf_counter() - started)
                finally:
                    raw.close()
                shown = response.get_data(as_text=True).count("<tr") - 1
                page_ms, sql_ms = _median_ms(page_times), _median_ms(sql_times)
                pair_ratios = spread([p / q for p, q in zip(page_times, sql_times, strict=True) if q])
                ratios.append(pair_ratios["median"])
                results.append({"page": f"{role} {url}", "page_ms": page_ms, "sql_ms": sql_ms, "ratio": pair_ratios})
                print(
                    f"{role + ' ' + url:<100} {shown:>6} {len(statements):>5} {page_ms:>8.1f} {sql_ms:>7.1f} "
                    f"{fmt(pair_ratios):>18}",
                    flush=True,
                )
            worst = max(ratios)
            print(
                f"\nworst median ratio of page time to its SQL time: {worst:.2f} (target ≤ 3): "
                f"{'met' if worst <= 3 else 'NOT met'}"
            )
            write_result("case_list", {"cases": args.cases, "runs": args.runs, "pages": results, "worst": worst})


if __name__ == "__main__":
    main()
