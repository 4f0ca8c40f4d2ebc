"""The API token form alone."""

from __future__ import annotations

from flask import Flask
from werkzeug.datastructures import MultiDict

from napo_tracker.api.forms import ApiTokenForm


def _form(app: Flask, **data: str) -> ApiTokenForm:
    with app.test_request_context(method="POST"):
        form = ApiTokenForm(formdata=MultiDict(data), meta={"csrf": False})
        form.validate()
        return form


def test_a_token_is_named_for_what_it_is_for(app):
    form = _form(app, name="  Research team spreadsheet  ")
    assert form.errors == {} and form.name.data == "Research team spreadsheet"


def test_a_token_name_is_required_short_and_plain(app):
    assert _form(app).name.errors == ["This field is required."]
    assert _form(app, name="   ").name.errors == ["This field is required."]
    assert _form(app, name="x" * 121).name.errors == ["Field cannot be longer than 120 characters."]
    assert "characters we cannot accept" in _form(app, name="sheet\u202egnp.exe").name.errors[0]
    assert "characters we cannot accept" in _form(app, name="tab\there").name.errors[0]
