"""Evidence rules: exact values, who records what, edits, verification, small numbers, aggregation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from napo_tracker.charts import bar_chart_svg, line_chart_svg, svg_data_uri
from napo_tracker.evidence.models import Metric
from napo_tracker.evidence.services import (
    EvidenceError,
    StaleEvidence,
    aggregate,
    dashboard_data,
    format_value,
    latest_by_region,
    parse_value,
    reveals_fewer_than_three,
    shown_value,
    update_evidence,
    verify_evidence,
)
from napo_tracker.extensions import db

from ..factories import make_evidence

STABLE_CODES = {
    "wmt_percent",
    "wmt_percent_avg",
    "staff_over_100_pct",
    "staff_over_120_pct",
    "staff_over_150_pct",
    "caseload",
    "unallocated_cases",
    "spo_name_only_cases",
    "vacancies",
    "staff_in_post",
    "spo_span_of_control",
    "sickness_days",
    "leavers",
    "leavers_within_2y",
    "sfo_count",
    "notices_served",
}


def test_the_migration_seeds_every_stable_metric_code(app):
    metrics = {m.code: m for m in db.session.scalars(select(Metric))}
    assert set(metrics) >= STABLE_CODES
    assert metrics["wmt_percent"].thresholds == (Decimal(100), Decimal(120), Decimal(150))
    assert metrics["wmt_percent"].is_individual and metrics["vacancies"].unit == "fte"


def test_missing_standard_metrics_are_created_on_demand(app):
    from napo_tracker.evidence.services import ensure_standard_metrics

    assert ensure_standard_metrics(None) == []
    db.session.delete(db.session.scalar(select(Metric).where(Metric.code == "sfo_count")))
    db.session.flush()
    assert [m.code for m in ensure_standard_metrics(None)] == ["sfo_count"]


def test_parse_value_is_exact_and_strict():
    assert parse_value("24.43") == Decimal("24.43")
    assert parse_value("1,234.5") == Decimal("1234.5")
    assert parse_value("192%") == Decimal("192")
    for bad in ("ten", "1,23", "NaN", "Infinity", "1e99", "0.00001", "=1+2"):
        with pytest.raises(ValueError):
            parse_value(bad)


def test_values_stay_exact_and_format_with_their_unit(items):
    db.session.expire_all()
    assert items["wales"].value == Decimal("24.43")
    assert format_value(items["wales"]) == "24.43 FTE"
    assert format_value(items["london"]) == "150%"
    assert format_value(items["national"]) == "615 FTE"


def test_small_numbers_are_withheld_except_from_admins(world, items):
    assert reveals_fewer_than_three(items["individual"])  # one NQO in one PDU
    assert not reveals_fewer_than_three(items["london"])  # five people
    assert shown_value(items["individual"], world.official) == "fewer than 3"
    assert shown_value(items["individual"], world.admin) == "118%"
    rows = {r["region"]: r for r in latest_by_region("wmt_percent")}
    assert rows["London"]["is_suppressed"]


def test_reps_record_only_in_their_regions(world):
    with pytest.raises(EvidenceError, match="only for your own regions"):
        make_evidence(world.london_rep, region=world.wales)
    with pytest.raises(EvidenceError, match="Only national officials record national"):
        make_evidence(world.london_rep, region=None)
    db.session.rollback()
    item = make_evidence(world.london_rep, region=world.london, unit="London IOM")
    assert item.reference == "EV-0001" and item.created_by_id == world.london_rep.id


def test_unit_must_be_in_the_region_and_duplicates_are_refused(world):
    from napo_tracker.evidence.services import create_evidence
    from tests.factories import unit

    with pytest.raises(EvidenceError, match="not in the chosen region"):
        create_evidence(
            world.official,
            region_id=world.london.id,
            unit_id=unit(world.wales, "Swansea").id,
            metric_id=None,
            value=None,
            statement="x",
            as_of=date(2024, 1, 1),
            source_type="press",
            source_title="t",
        )
    db.session.rollback()
    first = make_evidence(world.official, region=world.london, source_title="The same survey")
    with pytest.raises(EvidenceError, match=f"already recorded as {first.reference}"):
        make_evidence(world.official, region=world.london, source_title="The same survey")


def test_edits_detect_a_concurrent_change_and_clear_verification(world, items):
    item = items["wales"]
    verify_evidence(world.official, item)
    db.session.commit()
    fields = {
        name: getattr(item, name)
        for name in ("region_id", "unit_id", "metric_id", "as_of", "source_type", "source_title", "visibility")
    }
    update_evidence(world.official, item, item.version, **{**fields, "value": Decimal("25.5")})
    db.session.commit()
    assert item.value == Decimal("25.5") and not item.is_verified and item.version == 3
    with pytest.raises(StaleEvidence):
        update_evidence(world.official, item, 2, **{**fields, "value": Decimal("26")})


def test_aggregate_groups_by_metric_region_and_month(world):
    for value, as_of in (("110", date(2024, 1, 10)), ("130", date(2024, 1, 20)), ("140", date(2024, 2, 5))):
        make_evidence(world.official, region=world.london, value=value, as_of=as_of, reporter_count=None)
    groups = aggregate(period="month")
    by_period = {g.period: g for g in groups}
    assert by_period["2024-01"].mean == Decimal("120") and by_period["2024-01"].count == 2
    assert by_period["2024-01"].minimum == Decimal("110") and by_period["2024-02"].maximum == Decimal("140")
    assert {g.period for g in aggregate(period="year")} == {"2024"}
    data = dashboard_data(world.official)
    wmt = next(f for f in data["figures"] if f.metric.code == "wmt_percent_avg")
    assert wmt.rows[0]["region"] == "London" and wmt.rows[0]["value"] == Decimal("140")
    assert [v for _, v in data["trend"]["London"]] == [Decimal("120"), Decimal("140")]


def test_charts_are_standalone_svg():
    svg = bar_chart_svg(
        "WMT $ by region",
        ["London", "Wales"],
        [Decimal("192"), None],
        unit="percent",
        thresholds=(Decimal(100), Decimal(120), Decimal(150)),
    )
    assert (
        svg.startswith("<svg")
        and "<?xml" not in svg
        and "http://" not in svg.split(">", 1)[1].replace("http://www.w3.org", "")
    )
    assert "London" in svg and "withheld" in svg and "192%" in svg
    line = line_chart_svg(
        "Trend", {"London": [(date(2024, 1, 1), Decimal("120.5")), (date(2024, 2, 1), Decimal(130))]}, unit="percent"
    )
    assert line.startswith("<svg") and "London" in line
    assert svg_data_uri(line).startswith("data:image/svg+xml;base64,")
