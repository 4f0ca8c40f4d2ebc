"""Casework forms alone: the choices they are given are the only ones they accept.

Each form is built inside a request context from a ``MultiDict``, CSRF off, with plain
stand-ins for the records in the user's scope: no database is needed.
"""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from werkzeug.datastructures import FileStorage, MultiDict

from napo_tracker import uploads
from napo_tracker.cases.forms import (
    AttachmentForm,
    CaseFilterForm,
    CaseForm,
    EntryForm,
    ExportForm,
    MemberForm,
    StatusForm,
)
from napo_tracker.cases.services import EXPORT_COLUMNS
from napo_tracker.kernel import clock
from tests.files import pdf_bytes

OFF = {"csrf": False}


def _world() -> dict[str, Any]:
    london, wales = SimpleNamespace(id=1, name="London"), SimpleNamespace(id=2, name="Wales")
    units = [
        SimpleNamespace(id=10, name="London PDU", region_id=1, region=london),
        SimpleNamespace(id=20, name="Cardiff", region_id=2, region=wales),
    ]
    members = [SimpleNamespace(id=5, region_id=1, pseudonym="Member M-0005", grade="PO", unit=None)]
    reps = [(SimpleNamespace(id=7, display_name="London Rep"), 1), (SimpleNamespace(id=8, display_name="Wales Rep"), 2)]
    return {"regions": [london, wales], "units": units, "members": members, "reps": reps}


# ---------------------------------------------------------------- CaseForm


def _case_form(app, **data) -> CaseForm:
    values = {"region_id": "1", "category": "pay", "title": "Acting-up unpaid", "priority": "normal"} | data
    with app.test_request_context(method="POST"):
        form = CaseForm(formdata=MultiDict(values), meta=OFF, **_world())
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


def test_case_form_refuses_bad_values_next_to_their_field(app):
    assert _case_form(app, region_id="abc").region_id.errors == ["Choose one from the list."]
    assert _case_form(app, member_id="5", region_id="2").member_id.errors == ["Choose a member of the case's region."]
    assert _case_form(app, title="").title.errors == ["Give the case a short title."]
    assert _case_form(app, category="made_up").category.errors == ["Not a valid choice."]
    assert _case_form(app, grade="Chief").grade.errors == ["Not a valid choice."]
    assert "WMT must be between 0 and 400" in _case_form(app, wmt_percent="401").wmt_percent.errors[0]
    late = (clock.today() + timedelta(days=6 * 366)).isoformat()
    assert "Give a date between" in _case_form(app, next_action_on=late).next_action_on.errors[0]


def test_case_form_version_is_a_number_or_nothing(app):
    version = _case_form(app, version="7").version.data
    assert isinstance(version, int) and version == 7
    blank = _case_form(app, version="")
    assert blank.version.data is None and blank.errors == {}
    assert _case_form(app).version.data is None


# ---------------------------------------------------------------- MemberForm


def _member_form(app, **data) -> MemberForm:
    values = {"region_id": "1", "name": "Ann Member"} | data
    world = _world()
    with app.test_request_context(method="POST"):
        form = MemberForm(formdata=MultiDict(values), meta=OFF, regions=world["regions"], units=world["units"])
        form.validate()
        return form


def test_a_valid_member_form(app):
    form = _member_form(
        app, unit_id="10", membership_number=" N123 ", email="ann@example.org", phone="07700 900001", grade="NQO"
    )
    assert form.errors == {}
    assert (form.region_id.data, form.unit_id.data, form.membership_number.data, form.grade.data) == (
        1,
        10,
        "N123",
        "NQO",
    )


def test_member_form_refuses_bad_input(app):
    assert _member_form(app, name=" ").name.errors == ["Give the member's name."]
    assert "text-direction" in _member_form(app, name="Ann\u202eX").name.errors[0]
    assert _member_form(app, email="not an address").email.errors == [
        "Enter an e-mail address such as name@example.org."
    ]
    assert _member_form(app, unit_id="20").unit_id.errors == ["Choose a unit in the member's region."]
    assert _member_form(app, region_id="3").region_id.errors == ["Not a valid choice."]
    assert _member_form(app, grade="Chief").grade.errors == ["Not a valid choice."]
    assert _member_form(app, region_id="").region_id.errors == ["Choose a region."]


# ---------------------------------------------------------------- StatusForm


def _status_form(app, current_status: str, **data) -> StatusForm:
    with app.test_request_context(method="POST"):
        form = StatusForm(formdata=MultiDict(data), meta=OFF, current_status=current_status)
        form.validate()
        return form


def test_status_form_uses_the_one_status_machine(app):
    with app.test_request_context(method="POST"):
        form = StatusForm(formdata=MultiDict({"status": "closed"}), meta=OFF, current_status="open")
        assert not form.validate() and "cannot move to closed" in form.status.errors[0]
        form = StatusForm(formdata=MultiDict({"status": "resolved"}), meta=OFF, current_status="escalated")
        assert not form.validate() and form.outcome.errors
        form = StatusForm(formdata=MultiDict({"status": "reopened"}), meta=OFF, current_status="closed")
        assert form.validate()


def test_status_form_resolves_with_an_outcome_and_refuses_unknown_statuses(app):
    resolved = _status_form(app, "in_progress", status="resolved", outcome="Ten cases moved.", note="Agreed.")
    assert resolved.errors == {}
    assert _status_form(app, "open", status="deleted").status.errors
    assert "characters we cannot accept" in _status_form(app, "open", status="escalated", note="\x00").note.errors[0]


# ---------------------------------------------------------------- EntryForm


def _entry_form(app, **data) -> EntryForm:
    values = {"kind": "meeting", "happened_on": clock.today().isoformat(), "body": "Met the SPO."} | data
    with app.test_request_context(method="POST"):
        form = EntryForm(formdata=MultiDict(values), meta=OFF)
        form.validate()
        return form


def test_a_valid_entry_form(app):
    form = _entry_form(app)
    assert form.errors == {}
    assert (form.kind.data, form.happened_on.data, form.body.data) == ("meeting", clock.today(), "Met the SPO.")
    with app.test_request_context():
        assert EntryForm(formdata=None, meta=OFF).happened_on.data == clock.today()


def test_entry_form_refuses_bad_input(app):
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    assert "Give a date between" in _entry_form(app, happened_on=tomorrow).happened_on.errors[0]
    assert "Give a date between" in _entry_form(app, happened_on="1999-12-31").happened_on.errors[0]
    assert _entry_form(app, happened_on="").happened_on.errors == ["Give the date."]
    assert _entry_form(app, body=" ").body.errors == ["Write what happened."]
    # Status, assignment and attachment entries are written by the services, never by hand.
    assert _entry_form(app, kind="status").kind.errors == ["Not a valid choice."]


# ---------------------------------------------------------------- AttachmentForm


def _attachment_form(app, data: dict[str, Any]) -> AttachmentForm:
    with app.test_request_context(method="POST"):
        form = AttachmentForm(formdata=MultiDict(data), meta=OFF)
        form.validate()
        return form


def test_an_attachment_form_with_a_file(app):
    form = _attachment_form(app, {"file": FileStorage(io.BytesIO(pdf_bytes()), filename="letter.pdf")})
    assert form.errors == {}
    assert form.file.data.filename == "letter.pdf"


def test_attachment_form_refuses_no_file_and_a_file_too_large(app):
    assert _attachment_form(app, {}).file.errors == ["Choose a file to attach."]
    huge = FileStorage(io.BytesIO(b"0" * (uploads.MAX_UPLOAD_BYTES + 1)), filename="huge.pdf")
    assert "the most we accept is 10 MB" in _attachment_form(app, {"file": huge}).file.errors[0]


# ---------------------------------------------------------------- CaseFilterForm


def _filter_form(app, **args) -> CaseFilterForm:
    world = _world()
    with app.test_request_context(query_string=args):
        form = CaseFilterForm(
            formdata=MultiDict(args), regions=world["regions"], units=world["units"], reps=world["reps"]
        )
        form.validate()
        return form


def test_a_valid_filter_form_gives_its_filters(app):
    form = _filter_form(
        app,
        view="overdue",
        q=" workload ",
        region_id="1",
        unit_id="10",
        status="escalated",
        category="pay",
        risk="has_mappa_cases",
        assigned_rep_id="7",
        opened_from="2026-01-01",
        opened_to="2026-03-31",
        sort="wmt_percent",
        direction="desc",
    )
    assert form.errors == {}
    filters = form.filters()
    assert (filters["q"], filters["region_id"], filters["unit_id"], filters["assigned_rep_id"]) == (
        "workload",
        1,
        10,
        7,
    )
    assert (filters["status"], filters["category"], filters["risk"]) == ("escalated", "pay", "has_mappa_cases")
    assert "view" not in filters and "sort" not in filters
    assert _filter_form(app).errors == {}  # no filters at all is fine


@pytest.mark.parametrize(
    "args, field",
    [
        ({"sort": "password_hash"}, "sort"),
        ({"status": "bogus"}, "status"),
        ({"region_id": "abc"}, "region_id"),
        ({"region_id": "2000"}, "region_id"),
        ({"risk": "is_admin"}, "risk"),
        ({"view": "everyone"}, "view"),
        ({"direction": "sideways"}, "direction"),
        ({"opened_from": "1900-01-01"}, "opened_from"),
        ({"opened_from": "2026-05-01", "opened_to": "2026-01-01"}, "opened_to"),
        ({"q": "x\u202e"}, "q"),
    ],
)
def test_filter_form_refuses_what_is_not_offered(app, args, field):
    assert _filter_form(app, **args).errors.keys() == {field}


# ---------------------------------------------------------------- ExportForm


def _export_form(app, columns: dict, chosen: list[str]) -> ExportForm:
    with app.test_request_context():
        form = ExportForm(formdata=MultiDict([("columns", name) for name in chosen]), columns=columns)
        form.validate()
        return form


def test_export_form_takes_the_columns_offered(app):
    form = _export_form(app, EXPORT_COLUMNS, ["reference", "member_name"])
    assert form.errors == {} and form.columns.data == ["reference", "member_name"]


def test_export_form_refuses_a_column_not_offered(app):
    # What an official is offered: no identifying columns.
    pseudonymous = {name: column for name, column in EXPORT_COLUMNS.items() if not column.is_identifying}
    assert _export_form(app, pseudonymous, ["reference", "member_name"]).columns.errors
    assert _export_form(app, EXPORT_COLUMNS, ["password_hash"]).columns.errors
