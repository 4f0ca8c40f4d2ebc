"""Pages that stay fast as the tables grow: the hot queries read their indexes (the plans are
read on both databases), the home page's statements do not multiply with records or regions,
each panel says the same as the whole-table answer it replaces, and charts are drawn once."""

from __future__ import annotations

import contextlib
import random
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from napo_tracker.extensions import db

from . import factories
from .factories import make_case, make_evidence, make_region, make_served_notice, make_user


@contextlib.contextmanager
def statements() -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent to the database meanwhile, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plan(statement: str, parameters: Any) -> str:
    """The database's own plan for a statement, as text (EXPLAIN QUERY PLAN / EXPLAIN)."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return "\n".join(str(row[-1]) for row in rows)
    rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
    return "\n".join(row[0] for row in rows)


REGIONS = 8


def fill(world, cases: int = 20_000, items: int = 20_000) -> None:
    """Enough rows, spread like real ones, for PostgreSQL to plan as it would at scale (with
    a handful it reads the whole table, rightly): most cases closed long ago, a few live."""
    rng = random.Random(14)
    regions = [world.london, world.wales] + [make_region(f"Region {n}") for n in range(REGIONS - 2)]
    reps = [world.london_rep, world.wales_rep] + [make_user("rep", [r]) for r in regions[2:]]
    db.session.commit()
    factories.bulk_cases(rng, cases, [r.id for r in regions], [u.id for u in reps])
    factories.bulk_evidence(rng, items, [r.id for r in regions])
    db.session.commit()
    db.session.connection().exec_driver_sql("ANALYZE")
    db.session.commit()


def plans_of(seen: list[tuple[str, Any]], marker: str) -> list[str]:
    found = [plan(statement, parameters) for statement, parameters in seen if marker in statement]
    assert found, f"no statement containing {marker!r} was run"
    return found


def uses(plan_text: str, index: str) -> bool:
    return re.search(rf"\b{index}\b", plan_text) is not None


def reads_whole(table: str, plan_text: str) -> bool:
    """A plan that reads every row of the table: SQLite's bare SCAN, or PostgreSQL's Seq Scan
    unless right under a Limit (a scan that stops at the first few matches, as a capped count)."""
    if re.search(rf"SCAN {table}(?! USING)\b", plan_text):
        return True
    lines = plan_text.splitlines()
    for number, line in enumerate(lines):
        if re.search(rf"Seq Scan on {table}\b", line):
            depth = len(line) - len(line.lstrip(" ->"))
            parent = next(
                (
                    p
                    for p in reversed(lines[:number])
                    if (len(p) - len(p.lstrip(" ->")) < depth and "->" in p) or not p.startswith(" ")
                ),
                "",
            )
            if "Limit" not in parent:
                return True
    return False


# ---------------------------------------------------------------- the plans


def test_the_home_page_reads_indexes_not_tables(client, world, login_as):
    """Counts and lists of live cases read the composite indexes by status, region and rep; the
    recent list reads updated_at from its end; the evidence panel's counts stop at the cap,
    unverified ones on their own partial index."""
    fill(world)
    for user in (world.london_rep, world.official):
        login_as(user)
        with statements() as seen:
            assert client.get("/").status_code == 200
        db.session.rollback()
        case_plans = "\n".join(plans_of(seen, "FROM cases"))
        assert not reads_whole("cases", case_plans), case_plans
        if user.is_rep:  # within their regions
            expected = ("ix_cases_region_updated", "ix_cases_rep_status")
        else:
            expected = ("ix_cases_status_next_action", "ix_cases_updated_at")
        for index in expected:
            assert uses(case_plans, index), (index, case_plans)
        evidence_plans = "\n".join(plans_of(seen, "FROM evidence_items"))
        assert uses(evidence_plans, "ix_evidence_items_unverified"), evidence_plans


def test_deep_api_pages_seek_by_position(client, world, login_as):
    for day in range(1, 4):
        make_evidence(world.official, region=world.london, as_of=date(2024, 1, day))
    login_as(world.official)
    first = client.get("/api/v1/evidence?per_page=1").get_json()
    with statements() as seen:
        assert client.get(f"/api/v1/evidence?per_page=1&cursor={first['next_cursor']}").status_code == 200
    db.session.rollback()
    (page_plan,) = [plan(sql, params) for sql, params in seen if "FROM evidence_items" in sql and "LIMIT" in sql]
    assert uses(page_plan, "ix_evidence_items_newest"), page_plan
    assert not reads_whole("evidence_items", page_plan), page_plan


def test_the_dashboard_reads_each_place_s_figures_from_the_places_index(client, world, login_as):
    """The latest figure of each place, now and a year ago, and the count of figures over the
    period: one range of the places index per place, never the whole table."""
    fill(world)
    for user in (world.london_rep, world.official):
        login_as(user)
        with statements() as seen:
            assert client.get("/dashboard").status_code == 200
        db.session.rollback()
        evidence_plans = plans_of(seen, "FROM evidence_items")
        assert not any(reads_whole("evidence_items", p) for p in evidence_plans), evidence_plans
        markers = ("SELECT DISTINCT evidence_items.region_id", "AS n ", "ORDER BY evidence_items.region_id DESC")
        per_place = [plan(st, params) for st, params in seen if any(m in st for m in markers)]
        assert len(per_place) >= 4, per_place  # the places; two snapshots; the period's count and newest
        if db.engine.dialect.name == "sqlite":  # PostgreSQL may rightly choose bitmap scans of either index
            assert all(uses(p, "ix_evidence_items_places") for p in per_place), per_place


# ---------------------------------------------------------------- the same answers, in fewer statements


def test_the_user_and_their_regions_come_with_the_session_in_one_query(client, world, login_as):
    login_as(world.london_rep)
    client.get("/account/password")  # warm
    with statements() as seen:
        assert client.get("/account/password").status_code == 200
    loading = [sql for sql, _ in seen if "FROM user_sessions" in sql]
    assert len(loading) == 1 and "user_regions" in loading[0] and "regions" in loading[0]
    assert not [sql for sql, _ in seen if "FROM regions" in sql and "user_sessions" not in sql]


def test_home_page_statements_do_not_multiply_with_records(client, world, login_as, make_notice_served):
    login_as(world.london_rep)
    client.get("/")

    def count() -> int:
        with statements() as seen:
            assert client.get("/").status_code == 200
        return len(seen)

    few = count()
    for n in range(6):
        make_notice_served(date(2026, 3, 2) + timedelta(days=n))
        rep = world.london_rep
        make_case(rep, world.london, next_action_on=date(2020, 1, 6 + n), assigned_rep_id=rep.id)
    assert count() == few


@pytest.fixture
def make_notice_served(world):
    def make(served_on: date):
        return make_served_notice(world.london_rep, world.london, served_on=served_on, on=served_on)

    return make


def _dashboard_from_every_item(user, region=None) -> dict[str, Any]:
    """The dashboard as it was computed before: every item aggregated, then the latest month of
    each metric and place kept, and the trend's two years up to its newest month."""
    from napo_tracker.evidence.models import Metric
    from napo_tracker.evidence.services import HEADLINE_CODES, TREND_CODE, aggregate
    from napo_tracker.regions.models import Region

    metrics = {m.id: m for m in db.session.scalars(db.select(Metric).where(Metric.code.in_(HEADLINE_CODES)))}
    names = dict(db.session.execute(db.select(Region.id, Region.name)).all())
    groups = aggregate(list(metrics), region_ids={region.id} if region else None)
    latest, trend = {}, defaultdict(list)
    for group in groups:
        latest[(group.metric_id, group.region_id)] = group
        if metrics[group.metric_id].code == TREND_CODE:
            trend[group.region_id].append(group)
    figures = {
        (metrics[m].code, names.get(r, "National") if r else "National"): (g.period, g.value_for(user), g.count)
        for (m, r), g in latest.items()
    }
    newest = max((g.period for gs in trend.values() for g in gs), default="0000-00")
    since = f"{int(newest[:4]) - 2}{newest[4:]}"
    series = {
        names.get(r, "National") if r else "National": [
            (g.period, g.value_for(user)) for g in gs if g.period > since and g.value_for(user) is not None
        ]
        for r, gs in trend.items()
    }
    return {"figures": figures, "trend": {k: v for k, v in series.items() if v}}


@pytest.mark.parametrize("regional", [False, True])
def test_the_dashboard_says_what_aggregating_every_item_says(world, regional):
    """Only the latest months and two years of trend are read now: the figures are the same."""
    from types import SimpleNamespace

    from napo_tracker.evidence.services import dashboard_data

    rng = random.Random(7)
    factories.bulk_evidence(rng, 3000, [world.london.id, world.wales.id])
    db.session.commit()
    viewer = SimpleNamespace(role="official")
    region = world.london if regional else None
    data = dashboard_data(viewer, region)
    figures = {
        (figure.metric.code, row["region"]): (row["period"], row["value"], row["count"])
        for figure in data["figures"]
        for row in figure.rows
    }
    trend = {name: [(d.isoformat()[:7], v) for d, v in points] for name, points in data["trend"].items()}
    expected = _dashboard_from_every_item(viewer, region)
    assert figures == expected["figures"] and len(figures) >= (7 if regional else 21)
    assert trend == expected["trend"]
    assert trend and all(len(points) <= 24 for points in trend.values())


@pytest.mark.parametrize("path", ["/evidence/", "/evidence/new", "/notices/new", "/api/v1/regions"])
def test_forms_and_lists_run_no_query_per_region_or_rep(client, world, login_as, path):
    login_as(world.official)
    client.get(path)

    def count() -> int:
        with statements() as seen:
            assert client.get(path).status_code == 200
        return len(seen)

    few = count()
    for n in range(4):
        region = make_region(f"Extra region {n}", ((f"Extra PDU {n}", "pdu"),))
        make_user("rep", [region])
    db.session.commit()
    assert count() == few


def test_the_home_panels_count_up_to_a_cap_and_say_more_than(client, world, login_as, monkeypatch):
    """Counts stop at the cap, so a million overdue cases cost what a thousand do; the page
    says "more than" instead of a wrong number."""
    from napo_tracker.cases import services as case_services
    from napo_tracker.evidence import services as evidence_services
    from napo_tracker.evidence import views as evidence_views

    for n in range(3):
        make_case(world.london_rep, world.london, next_action_on=date(2020, 1, 6 + n))
        make_evidence(world.official, region=world.london, is_verified=False)
    for module, name in (
        (case_services, "HOME_COUNT_CAP"),
        (evidence_services, "PANEL_COUNT_CAP"),
        (evidence_views, "PANEL_COUNT_CAP"),
    ):
        monkeypatch.setattr(module, name, 2)
    case_services._home_statements.cache_clear()  # built again with the cap of this test
    evidence_services._panel_counts.cache_clear()
    try:
        login_as(world.official)
        page = client.get("/").get_data(as_text=True)
        assert "Overdue next actions (more than 2)" in page
        assert "More than 2 evidence items" in page and "More than 2 not yet verified</a>" in page
        monkeypatch.setattr(case_services, "HOME_COUNT_CAP", 3)
        case_services._home_statements.cache_clear()
        assert "Overdue next actions (3)" in client.get("/").get_data(as_text=True)
    finally:
        case_services._home_statements.cache_clear()
        evidence_services._panel_counts.cache_clear()
