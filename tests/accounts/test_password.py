"""Changing one's own password: the current one is needed, and every other session ends."""

from __future__ import annotations

from sqlalchemy import select

from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.extensions import db

from ..factories import PASSWORD
from ..helpers import log_in, submit

NEW_PASSWORD = "a quite different passphrase"


def test_change_password_ends_other_sessions(app, client, world):
    other_device = app.test_client()
    log_in(client, "rep.london@example.org", PASSWORD)
    log_in(other_device, "rep.london@example.org", PASSWORD)
    assert other_device.get("/regions/").status_code == 200

    response = submit(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get("/regions/").status_code == 200  # this session carries on
    assert other_device.get("/regions/").headers["Location"].startswith("/login")

    fresh = app.test_client()
    assert log_in(fresh, "rep.london@example.org", PASSWORD).status_code == 400
    assert log_in(fresh, "rep.london@example.org", NEW_PASSWORD).status_code == 302
    changed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.PASSWORD_CHANGED)).all()
    assert [e.actor_label for e in changed] == ["rep.london@example.org"]
    assert changed[0].details == {}


def test_change_password_bad_input(client, world, login_as):
    login_as(world.london_rep)
    hash_before = world.london_rep.password_hash
    cases = [
        (
            {"current_password": "not my password!", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
            b"Your current password is not right.",
        ),
        (
            {"current_password": PASSWORD, "new_password": "short", "confirm": "short"},
            b"Field must be between 12 and 1024 characters long.",
        ),
        (
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"},
            b"The two passwords differ.",
        ),
        ({"current_password": "", "new_password": "", "confirm": ""}, b"This field is required."),
        (
            {"current_password": PASSWORD, "new_password": "x" * 10_000, "confirm": "x" * 10_000},
            b"Field must be between 12 and 1024 characters long.",
        ),
    ]
    for data, message in cases:
        response = submit(client, "/account/password", data)
        assert response.status_code == 400, data
        assert message in response.data, data
        assert PASSWORD.encode() not in response.data  # passwords are never echoed back
    db.session.expire_all()
    assert world.london_rep.password_hash == hash_before
    assert client.get("/regions/").status_code == 200


def test_change_password_needs_csrf(client, world, login_as):
    login_as(world.london_rep)
    hash_before = world.london_rep.password_hash
    response = client.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert world.london_rep.password_hash == hash_before
