"""Casework forms alone: the choices they are given are the only ones they accept."""

from __future__ import annotations

from types import SimpleNamespace

from werkzeug.datastructures import MultiDict

from napo_tracker.cases.forms import CaseForm, StatusForm


def _world():
    london, wales = SimpleNamespace(id=1, name="London"), SimpleNamespace(id=2, name="Wales")
    units = [
        SimpleNamespace(id=10, name="London PDU", region_id=1, region=london),
        SimpleNamespace(id=20, name="Cardiff", region_id=2, region=wales),
    ]
    members = [SimpleNamespace(id=5, region_id=1, pseudonym="Member M-0005", grade="PO", unit=None)]
    reps = [(SimpleNamespace(id=7, display_name="London Rep"), 1), (SimpleNamespace(id=8, display_name="Wales Rep"), 2)]
    return {"regions": [london, wales], "units": units, "members": members, "reps": reps}


def _case_form(app, **data):
    values = {"region_id": "1", "category": "pay", "title": "Acting-up unpaid", "priority": "normal"} | data
    with app.test_request_context(method="POST"):
        form = CaseForm(formdata=MultiDict(values), meta={"csrf": False}, **_world())
        form.validate()
        return form


def test_a_valid_case_form_gives_explicit_fields(app):
    form = _case_form(
        app, unit_id="10", member_id="5", assigned_rep_id="7", wmt_percent="0", caseload="500", has_mappa_cases="y"
    )
    assert form.errors == {}
    fields = form.case_fields()
    assert (fields["unit_id"], fields["member_id"], fields["assigned_rep_id"]) == (10, 5, 7)
    assert (fields["wmt_percent"], fields["caseload"], fields["has_mappa_cases"], fields["has_no_cover"]) == (
        0,
        500,
        True,
        False,
    )
    assert "status" not in fields and "reference" not in fields


def test_cross_region_choices_are_refused(app):
    form = _case_form(app, unit_id="20", assigned_rep_id="8")
    assert form.unit_id.errors == ["Choose a unit in the case's region."]
    assert form.assigned_rep_id.errors == ["Assign the case to a rep of its own region."]
    assert _case_form(app, region_id="3").region_id.errors == ["Not a valid choice."]
    assert _case_form(app, version="1; DROP").version.errors


def test_status_form_uses_the_one_status_machine(app):
    with app.test_request_context(method="POST"):
        form = StatusForm(formdata=MultiDict({"status": "closed"}), meta={"csrf": False}, current_status="open")
        assert not form.validate() and "cannot move to closed" in form.status.errors[0]
        form = StatusForm(formdata=MultiDict({"status": "resolved"}), meta={"csrf": False}, current_status="escalated")
        assert not form.validate() and form.outcome.errors
        form = StatusForm(formdata=MultiDict({"status": "reopened"}), meta={"csrf": False}, current_status="closed")
        assert form.validate()
