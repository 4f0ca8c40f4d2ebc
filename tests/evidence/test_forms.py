"""Evidence forms alone: an item, the list's filters, a CSV upload and a metric definition."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from werkzeug.datastructures import FileStorage, MultiDict

from napo_tracker.evidence.forms import EvidenceForm, FilterForm, MetricForm, UploadForm
from napo_tracker.forms import select_choices
from napo_tracker.kernel.clock import today

NO_CSRF = {"csrf": False}


def _item_form(app: Flask, **data: str) -> EvidenceForm:
    values = {
        "region_id": "1",
        "unit_id": "",
        "metric_id": "7",
        "value": "24.43",
        "as_of": "2024-03-31",
        "source_type": "management_data",
        "source_title": "FOI reply",
        "visibility": "internal",
        "grade": "",
    } | data
    with app.test_request_context(method="POST"):
        form = EvidenceForm(formdata=MultiDict(values), meta=NO_CSRF)
        # The view gives the choices the user may have: here London (1) and its unit (10).
        form.region_id.choices = select_choices([("", "National"), (1, "London")])
        form.unit_id.choices = select_choices([("", "No particular unit"), (10, "London PDU (London)")])
        form.metric_id.choices = select_choices([("", "None: a statement only"), (7, "Staff in post (FTE)")])
        form.validate()
        return form


def test_a_good_item_gives_exact_explicit_fields(app):
    form = _item_form(
        app,
        unit_id="10",
        value="1,234.5",
        grade="NQO",
        reporter_count="3",
        period_start_on="2024-01-01",
        source_url="https://example.org/foi",
        case_reference="CASE-2026-0042",
        version="4",
    )
    assert form.errors == {}
    fields = form.item_fields()
    assert fields["value"] == Decimal("1234.5") and isinstance(fields["value"], Decimal)
    assert (fields["region_id"], fields["unit_id"], fields["metric_id"]) == (1, 10, 7)
    assert (fields["grade"], fields["reporter_count"], fields["statement"]) == ("NQO", 3, None)
    assert fields["as_of"] == date(2024, 3, 31) and fields["period_start_on"] == date(2024, 1, 1)
    assert form.link_references() == {
        "case_reference": "CASE-2026-0042",
        "notice_reference": "",
        "testimony_reference": "",
    }
    assert form.version.data == 4
    assert set(fields) >= {"source_type", "source_title", "visibility"} and "version" not in fields


def test_a_statement_needs_no_value_and_a_national_figure_no_region(app):
    form = _item_form(app, region_id="", metric_id="", value="", statement="Staff carry 60 cases.")
    assert form.errors == {}
    assert form.item_fields()["value"] is None and form.item_fields()["region_id"] is None
    assert form.version.data is None  # no version sent: nothing to check


def test_bad_item_input_is_refused_next_to_its_field(app):
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"value": "lots"}, "value", "is not a number"),
        ({"value": "1e99"}, "value", "too large"),
        ({"value": "0.00001"}, "value", "more than 4 decimal places"),
        ({"as_of": (today() + timedelta(days=1)).isoformat()}, "as_of", "The date cannot be in the future."),
        ({"as_of": "1989-12-31"}, "as_of", "figures before 1990 are not kept"),
        ({"as_of": "31/02/2024"}, "as_of", "Not a valid date value"),
        ({"as_of": ""}, "as_of", "Give the date the figure describes."),
        ({"source_url": "javascript:alert(1)"}, "source_url", "web address"),
        ({"source_url": "ftp://example.org/x"}, "source_url", "starting with https:// or http://"),
        ({"source_title": ""}, "source_title", "Say where the figure comes from."),
        ({"statement": "one\u202etwo"}, "statement", "characters we cannot accept"),
        ({"region_id": "2"}, "region_id", "Not a valid choice"),
        ({"region_id": "abc"}, "region_id", "Not a valid choice"),
        ({"grade": "boss"}, "grade", "Not a valid choice"),
        ({"source_type": "rumour"}, "source_type", "Not a valid choice"),
        ({"reporter_count": "0"}, "reporter_count", "Number must be between 1 and 100000."),
        ({"version": "1; DROP"}, "version", "out of date"),
    ]
    for data, field, message in cases:
        form = _item_form(app, **data)
        assert any(message in error for error in form.errors.get(field, [])), (data, form.errors)


def _filter_form(app: Flask, **data: str) -> FilterForm:
    with app.test_request_context(method="GET"):
        form = FilterForm(formdata=MultiDict(data))
        form.region.choices = {"": "Any region", "national": "National (no region)", "1": "London"}
        form.unit.choices = select_choices([("", "Any unit"), (10, "London PDU (London)")])
        form.metric.choices = select_choices([("", "Any metric"), (7, "Staff in post (FTE)")])
        form.validate()
        return form


def test_filters_read_from_the_query_string_without_csrf(app):
    form = _filter_form(
        app, region="national", unit="10", metric="7", source="press", verified="no", date_from="2024-01-01"
    )
    assert form.errors == {}
    assert (form.region.data, form.unit.data, form.metric.data) == ("national", 10, 7)
    assert (form.source.data, form.verified.data, form.date_from.data) == ("press", "no", date(2024, 1, 1))
    assert _filter_form(app).errors == {}  # no filter at all


def test_bad_filters_are_refused(app):
    assert "must be on or after" in _filter_form(app, date_from="2024-01-01", date_to="2020-01-01").date_to.errors[0]
    assert _filter_form(app, metric="abc").metric.errors == ["Not a valid choice."]
    assert _filter_form(app, region="2").region.errors == ["Not a valid choice."]
    assert _filter_form(app, verified="maybe").verified.errors == ["Not a valid choice."]
    assert _filter_form(app, date_from="01/01/2024").date_from.errors


def _upload_form(app: Flask, filename: str | None, dry_run: bool = False) -> UploadForm:
    data: MultiDict[str, Any] = MultiDict()
    if filename is not None:
        data["file"] = FileStorage(io.BytesIO(b"region,unit\n"), filename=filename, content_type="text/csv")
    if dry_run:
        data["dry_run"] = "y"
    with app.test_request_context(method="POST"):
        form = UploadForm(formdata=data, meta=NO_CSRF)
        form.validate()
        return form


def test_an_upload_takes_a_csv_file_and_checks_nothing_else(app):
    form = _upload_form(app, "figures.csv", dry_run=True)
    assert form.errors == {} and form.dry_run.data is True
    assert _upload_form(app, "figures.TXT").errors == {}


def test_an_upload_refuses_no_file_and_other_kinds(app):
    assert _upload_form(app, None).file.errors == ["Choose a CSV or XLSX file to import."]
    assert _upload_form(app, "figures.exe").file.errors == ["Choose a .csv or .xlsx file."]
    assert _upload_form(app, "figures.xlsx.exe").file.errors == ["Choose a .csv or .xlsx file."]


def _metric_form(app: Flask, **data: str) -> MetricForm:
    values = {"code": "court_backlog", "label": "Court report backlog", "unit": "count"} | data
    with app.test_request_context(method="POST"):
        form = MetricForm(formdata=MultiDict(values), meta=NO_CSRF)
        form.validate()
        return form


def test_a_metric_with_rising_thresholds_is_accepted(app):
    form = _metric_form(app, warn_at="50", alert_at="75.5", severe_at="75.5", is_individual="y")
    assert form.errors == {}
    assert form.thresholds() == {"warn_at": Decimal(50), "alert_at": Decimal("75.5"), "severe_at": Decimal("75.5")}
    assert form.is_individual.data is True and form.is_headline.data is False
    assert _metric_form(app).thresholds() == {"warn_at": None, "alert_at": None, "severe_at": None}


def test_bad_metrics_are_refused(app):
    assert "lower-case letters" in _metric_form(app, code="Bad Code").code.errors[0]
    assert "lower-case letters" in _metric_form(app, code="1st").code.errors[0]
    assert _metric_form(app, code="x" * 41).code.errors
    assert _metric_form(app, label="").label.errors
    assert _metric_form(app, label="Back\x00log").label.errors
    assert _metric_form(app, unit="furlongs").unit.errors == ["Not a valid choice."]
    assert "is not a number" in _metric_form(app, warn_at="ten").warn_at.errors[0]
    assert "must not be below the first" in _metric_form(app, warn_at="10", alert_at="5").alert_at.errors[0]
    assert "must not be below the second" in _metric_form(app, alert_at="10", severe_at="5").severe_at.errors[0]
