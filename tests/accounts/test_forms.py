"""Account forms alone: what each accepts and refuses, before any service is called."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from napo_tracker.accounts.forms import ChangePasswordForm, LoginForm
from napo_tracker.accounts.user_forms import UserCreateForm, UserEditForm

OFF = {"csrf": False}
REGIONS = [(1, "London"), (2, "Wales")]


def _validated(app, form_class, data: dict[str, Any], **kwargs):
    with app.test_request_context(method="POST"):
        form = form_class(formdata=MultiDict(data), meta=OFF, **kwargs)
        form.validate()
        return form


def test_login_needs_an_address_and_a_password(app):
    good = _validated(app, LoginForm, {"email": "  rep@example.org ", "password": "x"})
    assert not good.errors and good.email.data == "rep@example.org" and good.remember.data is False
    bad = _validated(app, LoginForm, {"email": "rep\u202e@example.org", "password": ""})
    assert set(bad.errors) == {"email", "password"}
    too_long = _validated(app, LoginForm, {"email": "a" * 300, "password": "p" * 1025})
    assert set(too_long.errors) == {"email", "password"}


def test_changing_a_password_needs_it_twice_and_long_enough(app):
    good = _validated(
        app,
        ChangePasswordForm,
        {"current_password": "old", "new_password": "amber ferry window 63", "confirm": "amber ferry window 63"},
    )
    assert not good.errors
    differ = _validated(
        app, ChangePasswordForm, {"current_password": "old", "new_password": "a" * 12, "confirm": "b" * 12}
    )
    assert differ.errors == {"confirm": ["The two passwords differ."]}
    short = _validated(
        app, ChangePasswordForm, {"current_password": "old", "new_password": "short", "confirm": "short"}
    )
    assert "new_password" in short.errors


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"email": "not an address"}, "email"),
        ({"email": ""}, "email"),
        ({"display_name": ""}, "display_name"),
        ({"role": "superuser"}, "role"),
        ({"regions": []}, "regions"),  # a rep needs a region
        ({"regions": ["3"]}, "regions"),  # not one of the choices
        ({"password": "short"}, "password"),
    ],
)
def test_creating_a_user_refuses_each_bad_field(app, world, changes, field):
    data = {
        "email": "new.rep@example.org",
        "display_name": "New Rep",
        "role": "rep",
        "regions": ["1"],
        "password": "amber ferry window 63",
    } | changes
    form = _validated(app, UserCreateForm, data, region_choices=REGIONS)
    assert field in form.errors, form.errors


def test_creating_a_user_refuses_an_address_already_used_whatever_its_case(app, world):
    data = {"email": "REP.London@example.org", "display_name": "x", "role": "official", "password": "p" * 12}
    form = _validated(app, UserCreateForm, data, region_choices=REGIONS)
    assert form.errors == {"email": ["An account with this email address already exists."]}


def test_officials_need_no_region_and_edits_keep_the_choices_given(app):
    official = _validated(
        app,
        UserCreateForm,
        {"email": "nat@example.org", "display_name": "Nat", "role": "official", "password": "p" * 12},
        region_choices=REGIONS,
    )
    assert not official.errors and official.regions.data == []
    edit = _validated(
        app,
        UserEditForm,
        {"display_name": "Nat", "role": "rep", "regions": ["2"], "is_active": "y"},
        region_choices=REGIONS,
    )
    assert not edit.errors and edit.regions.data == [2] and edit.is_active.data is True
