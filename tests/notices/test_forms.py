"""Notice forms alone: each is given its choices and "today", and refuses what falls outside them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Flask
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from napo_tracker.notices.forms import EscalateForm, FilterForm, NoticeForm, ResolveForm, ResponseForm, ServeForm

TODAY = date(2026, 3, 12)
SERVED_ON = date(2026, 3, 2)
NOT_IN_FUTURE = "This date cannot be in the future."


def _build(app: Flask, form_class: type[FlaskForm], data: dict[str, Any], **kwargs: Any) -> Any:
    """The form built from ``data`` as a POST would send it (CSRF off), validated."""
    with app.test_request_context(method="POST"):
        form = form_class(formdata=MultiDict(data), meta={"csrf": False}, **kwargs)
        form.validate()
        return form


# --------------------------------------------------------------------------- NoticeForm

NOTICE_CHOICES: dict[str, Any] = dict(
    region_choices=[(1, "London"), (2, "Wales")],
    unit_choices=[(10, "London PDU (London)")],
    rep_choices=[(7, "Another Rep (London)")],
    member_choices=[(5, "M-0005 (London)"), (6, "M-0006 (London)")],
)


def _notice_form(app: Flask, **overrides: Any) -> NoticeForm:
    data: dict[str, Any] = {
        "kind": "individual",
        "signatory_count": "1",
        "region_id": "1",
        "unit_id": "10",
        "served_to_name": "  Jo Manager ",
        "served_to_role": "Head of PDU",
        "wmt_percent": "142.5",
        "caseload": "58",
        "concerns": ["no_cover", "caseload_beyond_capacity"],
        "concerns_detail": "",
        "letter_wording": "",
        "case_reference": "",
        "member_id": "0",
        "assigned_rep_id": "0",
    }
    data.update(overrides)
    multi: MultiDict[str, Any] = MultiDict()
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            multi.add(key, item)
    with app.test_request_context(method="POST"):
        form = NoticeForm(formdata=multi, meta={"csrf": False}, **NOTICE_CHOICES)
        form.validate()
        return form


def test_a_good_notice_form_hands_over_explicit_details(app):
    form = _notice_form(app, member_id="5", assigned_rep_id="7", version="3")
    assert form.errors == {}
    details = form.details()
    assert (details.kind, details.region_id, details.unit_id) == ("individual", 1, 10)
    assert (details.served_to_name, details.served_to_role) == ("Jo Manager", "Head of PDU")
    assert details.wmt_percent == Decimal("142.5") and details.caseload == 58
    assert sorted(details.concerns) == ["caseload_beyond_capacity", "no_cover"]
    assert (details.member_id, details.assigned_rep_id) == (5, 7)
    assert form.version.data == 3


def test_no_unit_no_member_and_me_as_rep_are_none(app):
    form = _notice_form(app, unit_id="0", member_id="0", assigned_rep_id="0")
    assert form.errors == {}
    details = form.details()
    assert (details.unit_id, details.member_id, details.assigned_rep_id) == (None, None, None)
    assert form.version.data is None  # no version sent: nothing to check


def test_a_collective_notice_with_named_members(app):
    form = _notice_form(app, kind="collective", signatory_count="9", named_member_ids=["5", "6"])
    assert form.errors == {}
    assert form.details().signatory_count == 9 and form.details().named_member_ids == [5, 6]


BAD_NOTICES: list[tuple[dict[str, Any], str, str]] = [
    ({"wmt_percent": "401"}, "wmt_percent", "WMT must be between 0 and 400 %."),
    ({"wmt_percent": "-5"}, "wmt_percent", "WMT must be between 0 and 400 %."),
    ({"wmt_percent": "lots"}, "wmt_percent", "Not a valid decimal value."),
    ({"wmt_percent": ""}, "wmt_percent", "Enter the WMT percentage."),
    ({"kind": "collective", "signatory_count": "0"}, "signatory_count", "At least one signatory."),
    ({"kind": "nobody"}, "kind", "Not a valid choice."),
    ({"served_to_name": ""}, "served_to_name", "This field is required."),
    ({"served_to_name": "Jo\u202eManager"}, "served_to_name", "characters we cannot accept"),
    ({"served_to_role": "x" * 121}, "served_to_role", "longer than 120 characters"),
    ({"caseload": "-1"}, "caseload", "A caseload is a whole number, 0 or more."),
    ({"region_id": "0"}, "region_id", "Choose a region."),
    ({"region_id": "3"}, "region_id", "Not a valid choice."),
    ({"unit_id": "20"}, "unit_id", "Not a valid choice."),
    ({"member_id": "99"}, "member_id", "Not a valid choice."),
    ({"assigned_rep_id": "8"}, "assigned_rep_id", "Not a valid choice."),
    ({"concerns": ["nonsense"]}, "concerns", "not a valid choice"),
    ({"letter_wording": "a\x00b"}, "letter_wording", "characters we cannot accept"),
    ({"version": "1; DROP"}, "version", "out of date"),
]


def test_bad_notice_input_is_refused_next_to_its_field(app):
    for overrides, field, message in BAD_NOTICES:
        form = _notice_form(app, **overrides)
        errors = getattr(form, field).errors
        assert any(message in error for error in errors), (overrides, errors)


def test_an_empty_signatory_count_is_left_to_the_service(app):
    # Optional() ends the field's checks on an empty value; create_notice refuses it for a collective notice.
    form = _notice_form(app, kind="collective", signatory_count="")
    assert form.errors == {} and form.details().signatory_count is None


# --------------------------------------------------------------------------- ServeForm


def test_serve_form_takes_a_date_up_to_today(app):
    form = _build(app, ServeForm, {"served_on": "2026-03-12"}, today=TODAY)
    assert form.errors == {} and form.served_on.data == TODAY
    assert _build(app, ServeForm, {"served_on": "2026-03-13"}, today=TODAY).served_on.errors == [NOT_IN_FUTURE]
    assert _build(app, ServeForm, {"served_on": ""}, today=TODAY).served_on.errors == [
        "Enter the date the notice was served."
    ]
    assert _build(app, ServeForm, {"served_on": "12/03/2026"}, today=TODAY).served_on.errors


# --------------------------------------------------------------------------- ResponseForm


def _response(app: Flask, **data: str) -> Any:
    values = {"received_on": "2026-03-10", "summary": " Two cases moved. ", "outcome": ""} | data
    return _build(app, ResponseForm, values, today=TODAY, served_on=SERVED_ON)


def test_response_form_between_service_and_today(app):
    form = _response(app, outcome="partly_reduced")
    assert form.errors == {}
    assert (form.received_on.data, form.summary.data, form.outcome.data) == (
        date(2026, 3, 10),
        "Two cases moved.",
        "partly_reduced",
    )
    assert _response(app).errors == {}  # no outcome yet is allowed
    assert _response(app, received_on="2026-03-01").received_on.errors == [
        "The response cannot be before the notice was served (02 March 2026)."
    ]
    assert _response(app, received_on="2026-03-13").received_on.errors == [NOT_IN_FUTURE]
    assert _response(app, received_on="").received_on.errors == ["Enter the date the response was received."]
    assert _response(app, summary="  ").summary.errors == ["This field is required."]
    assert _response(app, summary="a\u202eb").summary.errors
    assert _response(app, outcome="made_up").outcome.errors == ["Not a valid choice."]


# --------------------------------------------------------------------------- EscalateForm

STEPS = ["health_safety_committee", "grievance"]  # the rungs still open


def _escalate(app: Flask, **data: str) -> Any:
    values = {"step": "health_safety_committee", "raised_on": "2026-03-12", "note": ""} | data
    return _build(app, EscalateForm, values, steps=STEPS, today=TODAY)


def test_escalate_form_offers_only_the_rungs_still_open(app):
    form = _escalate(app, note=" No reply. ")
    assert form.errors == {} and form.note.data == "No reply."
    assert [(choice.value, choice.label) for choice in form.step.choices] == [
        ("health_safety_committee", "Regional health and safety committee"),
        ("grievance", "Grievance"),
    ]
    assert _escalate(app, step="line_manager").step.errors == ["Not a valid choice."]
    assert _escalate(app, step="").step.errors
    assert _escalate(app, raised_on="2026-03-13").raised_on.errors == [NOT_IN_FUTURE]
    assert _escalate(app, raised_on="").raised_on.errors == ["Enter the date."]
    assert _escalate(app, note="x" * 2001).note.errors


# --------------------------------------------------------------------------- ResolveForm


def test_resolve_form_needs_an_outcome_from_the_list(app):
    assert _build(app, ResolveForm, {"outcome": "workload_reduced"}).errors == {}
    assert _build(app, ResolveForm, {"outcome": "sideways"}).outcome.errors == ["Not a valid choice."]
    assert _build(app, ResolveForm, {"outcome": ""}).outcome.errors


# --------------------------------------------------------------------------- FilterForm


def _filters(app: Flask, **data: str) -> Any:
    with app.test_request_context("/notices/"):
        form = FilterForm(
            formdata=MultiDict(data), region_choices=[(1, "London")], unit_choices=[(10, "London PDU (London)")]
        )
        form.validate()
        return form


def test_filter_form_accepts_its_choices_and_flags_the_rest(app):
    form = _filters(app, status="served", region="1", unit="10", due="overdue", sort="served")
    assert form.errors == {}
    assert (form.status.data, form.region.data, form.unit.data, form.due.data, form.sort.data) == (
        "served",
        1,
        10,
        "overdue",
        "served",
    )
    assert _filters(app).errors == {}  # nothing chosen: every notice in scope
    bad = _filters(app, status="lost", region="2", unit="zzz", due="someday", sort="colour")
    assert set(bad.errors) == {"status", "region", "unit", "due", "sort"}
