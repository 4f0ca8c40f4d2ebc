"""Dashboards over any period, level and grade; the national figures pack of any view; and
dashboards, the API and the PDF agreeing on every value and total."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader

from napo_tracker.evidence.services import EvidenceError, create_metric, update_metric
from napo_tracker.extensions import db
from napo_tracker.kernel.numbers import format_figure, places_of, plain_figure

from ..factories import make_evidence
from ..helpers import submit


def _shown(exact: str) -> str:
    """How a page prints an exact value from the API: its places kept, its unit added."""
    return format_figure(Decimal(exact), "fte", places_of(Decimal(exact)))


def _vacancies(world):
    """PO vacancies in two regions at two dates, PSO ones in one, and a unit's figure."""
    for region, value, as_of, grade in (
        (world.london, "14.20", date(2023, 3, 31), "PO"),
        (world.london, "15.5", date(2025, 3, 31), "PO"),
        (world.wales, "3.0", date(2023, 3, 31), "PO"),
        (world.wales, "2", date(2023, 3, 31), "PSO"),
    ):
        make_evidence(
            world.official,
            metric="vacancies",
            region=region,
            value=value,
            as_of=as_of,
            grade=grade,
            source_type="parliamentary_answer",
            source_title='=HYPERLINK("http://x")',
            visibility="public",
        )
    make_evidence(world.official, metric="vacancies", region=world.london, unit="London PDU", value="1250.5")


def test_a_dashboard_takes_any_date_level_and_grade_and_totals_exactly(client, login_as, world):
    _vacancies(world)
    login_as(world.official)
    page = client.get("/dashboard?metric=vacancies&level=region&on=2024-01-01&since=2022-01-01")
    assert page.status_code == 200
    text = page.text
    # The 2025 figure is after the date; grades stay apart; places as given; each total exact.
    assert "14.20 FTE" in text and "15.5 FTE" not in text.split('id="series"')[0].split('id="changes"')[0]
    assert "3.0 FTE" in text and "2 FTE" in text
    assert "17.20 FTE" in text  # PO: 14.20 + 3.0
    later = client.get("/dashboard?metric=vacancies&level=region&date_from=2020-01-01&date_to=2025-12-31").text
    assert "18.5 FTE" in later  # PO: 15.5 + 3.0, on today's date
    assert "2025-03-31" in later  # the time series uses the sources' own dates
    po_only = client.get("/dashboard?metric=vacancies&level=region&grade=PSO&on=2024-01-01").text
    assert "14.20 FTE" not in po_only and "Wales" in po_only
    units = client.get(f"/dashboard/{world.london.id}?metric=vacancies").text
    assert "1,250.5 FTE" in units and "London PDU (London)" in units
    metric = client.get("/dashboard?metric=joiners&level=national")
    assert metric.status_code == 200  # every metric can be shown, joiners included
    assert client.get("/dashboard?metric=vacancies&on=not-a-date").status_code == 400


def test_at_most_the_setting_s_number_of_points_are_drawn_and_the_rest_said(app, client, login_as, world):
    app.config["CHART_MAX_POINTS"] = 3
    for month in range(1, 7):
        make_evidence(world.official, region=world.london, value=str(100 + month), as_of=date(2024, month, 28))
    login_as(world.official)
    page = client.get("/dashboard?metric=wmt_percent_avg&date_from=2024-01-01&date_to=2024-12-31&on=2024-12-31")
    assert "3 older ones are left out" in page.text


def test_the_figures_pack_and_the_api_agree_with_the_dashboard(client, login_as, world):
    _vacancies(world)
    login_as(world.official)
    query = "metric=vacancies&level=region&on=2024-01-01"
    api = client.get(f"/api/v1/statistics?{query}").get_json()
    values = [f["value"] for f in api["figures"]]
    totals = [t["total"] for t in api["totals"]]
    assert values == ["14.20", "3.0", "2"] and totals == ["17.20", "2"]

    page = client.get(f"/dashboard?{query}").text
    for value in values + totals:
        assert _shown(value) in page

    table = list(csv.reader(io.StringIO(client.get(f"/dashboard/figures.csv?{query}").text.lstrip("\ufeff"))))
    assert [row[4] for row in table[1:4]] == values and [row[4] for row in table[4:]] == totals
    assert table[1][8].startswith("'=HYPERLINK")  # formula-safe

    sheet = load_workbook(io.BytesIO(client.get(f"/dashboard/figures.xlsx?{query}").data)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [plain_figure(Decimal(str(row[4])), row[5]) for row in rows[:3]] == values
    assert str(rows[0][8]).startswith("'=") and sheet.cell(2, 9).data_type == "s"
    assert sheet.cell(2, 5).number_format == "0.00"

    svg = client.get(f"/dashboard/figures.svg?{query}")
    assert svg.mimetype == "image/svg+xml" and "14.20 FTE" in svg.text
    png = client.get(f"/dashboard/figures.png?{query}")
    assert png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")

    pdf = client.get(f"/dashboard/figures.pdf?{query}")
    reader = PdfReader(io.BytesIO(pdf.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for value in values + totals:
        assert _shown(value) in text
    assert "Sources" in text and "Parliamentary answer" in text
    root: Any = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB" and "/StructTreeRoot" in root  # tagged, with its table
    assert client.get("/dashboard/figures.csv?metric=vacancies&on=bad").status_code == 400


def test_admins_edit_metrics_but_standard_codes_never_change(client, login_as, world):
    login_as(world.admin)
    page = client.get("/evidence/metrics/vacancies")
    assert page.status_code == 200 and "never changes" in page.text
    response = submit(
        client,
        "/evidence/metrics/vacancies",
        {"code": "vacancy_count", "label": "Vacancies (FTE)", "unit": "fte", "is_additive": "y"},
    )
    assert response.status_code == 400 and "standard code and never changes" in response.text
    saved = submit(
        client,
        "/evidence/metrics/vacancies",
        {"code": "vacancies", "label": "Vacant posts (FTE)", "unit": "fte", "is_additive": "y", "levels": "region"},
    )
    assert saved.status_code == 302
    from napo_tracker.evidence.models import metric_by_code

    metric = metric_by_code("vacancies")
    assert metric is not None
    assert metric.label == "Vacant posts (FTE)" and metric.level_values == ["region"] and metric.is_additive
    login_as(world.official)
    assert client.get("/evidence/metrics/vacancies").status_code in (302, 403)


def test_metric_rules(world):
    made = create_metric(world.admin, code="court_backlog", label="Court backlog", unit="count")
    db.session.commit()
    update_metric(world.admin, made, code="court_reports_late", label="Court reports late", unit="count")
    assert made.code == "court_reports_late"
    make_evidence(world.official, metric="court_reports_late", region=world.london, value="4")
    try:
        update_metric(world.admin, made, code="court_reports_late", label="Court reports late", unit="percent")
    except EvidenceError as error:
        assert "unit cannot change" in error.message
    else:
        raise AssertionError("a metric with figures changed its unit")


def test_places_read_a_few_at_a_time_give_the_same_dashboard(monkeypatch, world):
    """However many places there are, they are read in groups (SQLite takes at most 500 parts
    in one UNION): one place at a time gives the same figures, totals and series as all at once."""
    from napo_tracker.evidence import statistics

    _vacancies(world)
    metric = statistics.metric_for("vacancies")

    def seen() -> tuple:
        view = statistics.dashboard_view(world.official, metric, on=date(2026, 1, 1), level="region")
        figures = [(f.place, f.grade, f.exact) for f in view.snapshot.figures]
        totals = [(t.grade, t.exact) for t in view.snapshot.totals]
        return figures, totals, view.series.lines, view.series.left_out

    together = seen()
    monkeypatch.setattr(statistics, "PLACES_AT_ONCE", 1)
    assert seen() == together
    assert len(together[0]) == 3 and together[1]  # London PO, Wales PO and PSO; totals by grade
