"""Signed-in sessions live on the server: logging out, signing out everywhere, a password
change and deactivation end them, so a copied cookie stops working at once; idle and
absolute time-outs end them too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from napo_tracker.accounts.models import UserSession
from napo_tracker.accounts.services import update_user
from napo_tracker.accounts.sessions import describe_device, live_sessions, resume_session, start_session
from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import utcnow

from ..factories import PASSWORD
from ..helpers import csrf_from, log_in, log_out, one

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


def _cookie(client) -> str:
    cookie = client.get_cookie("napo_session")
    assert cookie is not None
    return cookie.value


def _copy_of(app, client):
    """A second browser holding a copy of this browser's session cookie."""
    thief = app.test_client()
    thief.set_cookie("napo_session", _cookie(client))
    return thief


def test_a_cookie_copied_before_logout_no_longer_opens_anything(app, client, world):
    log_in(client, "rep.london@example.org", PASSWORD)
    thief = _copy_of(app, client)
    assert thief.get("/cases/").status_code == 200
    log_out(client)
    assert thief.get("/cases/").headers["Location"].startswith("/login")
    ended = one(select(UserSession))
    assert ended.ended_at is not None


def test_a_remember_me_cookie_dies_with_its_session(app, client, world):
    log_in(client, "rep.london@example.org", PASSWORD, remember=True)
    remembered = client.get_cookie("remember_token")
    assert remembered is not None
    thief = app.test_client()
    thief.set_cookie("remember_token", remembered.value)
    assert thief.get("/cases/").status_code == 200  # a new browser session, restored from the cookie
    log_out(client)
    other = app.test_client()
    other.set_cookie("remember_token", remembered.value)
    assert other.get("/cases/").headers["Location"].startswith("/login")


def test_each_device_is_listed_and_can_be_signed_out(app, client, world):
    log_in(client, "rep.london@example.org", PASSWORD)
    laptop = app.test_client()
    laptop.environ_base["HTTP_USER_AGENT"] = FIREFOX
    log_in(laptop, "rep.london@example.org", PASSWORD)
    page = client.get("/account/sessions")
    assert page.status_code == 200 and "Firefox on Linux" in page.text and "this device" in page.text
    firefox = one(select(UserSession).where(UserSession.device == "Firefox on Linux"))
    ended = client.post(f"/account/sessions/{firefox.id}/end", data={"csrf_token": csrf_from(page.data)})
    assert ended.status_code == 302
    assert laptop.get("/cases/").headers["Location"].startswith("/login")
    assert client.get("/cases/").status_code == 200
    # another person's session is not one of mine: no such page
    other = app.test_client()
    log_in(other, "rep.wales@example.org", PASSWORD)
    theirs = one(select(UserSession).where(UserSession.user_id == world.wales_rep.id))
    page = client.get("/account/sessions")
    refused = client.post(f"/account/sessions/{theirs.id}/end", data={"csrf_token": csrf_from(page.data)})
    assert refused.status_code == 404
    assert other.get("/cases/").status_code == 200


def test_sign_out_everywhere_ends_every_session_this_one_too(app, client, world):
    log_in(client, "rep.london@example.org", PASSWORD)
    phone = app.test_client()
    log_in(phone, "rep.london@example.org", PASSWORD)
    page = client.get("/account/sessions")
    response = client.post("/account/sessions", data={"csrf_token": csrf_from(page.data)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    for device in (client, phone):
        assert device.get("/cases/").headers["Location"].startswith("/login")
    event = one(select(AuditEvent).where(AuditEvent.action == AuditAction.SESSIONS_ENDED))
    assert event.details == {"sessions": 2}


def test_deactivation_ends_the_persons_sessions(app, client, world):
    log_in(client, "rep.london@example.org", PASSWORD)
    update_user(world.admin, world.london_rep, display_name="x", role="rep", regions=[world.london], is_active=False)
    db.session.commit()
    assert client.get("/cases/").headers["Location"].startswith("/login")


# (seconds since the last request, seconds left before the absolute end, still alive?)
# The idle time-out is an hour (SESSION_IDLE_TIMEOUT).
@pytest.mark.parametrize(
    "idle, left, alive", [(30, 3600, True), (3590, 60, True), (3610, 3600, False), (10, -1, False)]
)
def test_sessions_end_after_the_idle_and_absolute_time_outs(app, world, idle, left, alive):
    token = start_session(world.london_rep)
    record = one(select(UserSession))
    now = utcnow()
    record.last_seen_at = now - timedelta(seconds=idle)
    record.expires_at = now + timedelta(seconds=left)
    db.session.commit()
    assert (resume_session(f"{world.london_rep.id}:{token}") is not None) is alive
    assert (record in live_sessions(world.london_rep)) is alive


def test_a_cookie_value_that_is_not_ours_opens_nothing(app, world):
    token = start_session(world.london_rep)
    db.session.commit()
    for forged in (
        f"{world.wales_rep.id}:{token}",  # someone else's id with my token
        f"{world.london_rep.id}:{token}x",
        f"{world.london_rep.id}:",
        "x:" + token,
        token,
        f"{world.london_rep.id}:{'a' * 500}",
        f"{world.london_rep.id}:../../etc",
    ):
        assert resume_session(forged) is None, forged
    assert resume_session(f"{world.london_rep.id}:{token}") is not None


def test_devices_are_named_coarsely():
    assert describe_device(FIREFOX) == "Firefox on Linux"
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Version/18.0 Safari/604.1"
    assert describe_device(iphone) == "Safari on iPhone"
    assert describe_device(None) == "A browser" and describe_device("curl/8.0") == "A browser"


def test_production_cookies_carry_the_host_prefix(database_url, tmp_path):
    from config import TestingConfig
    from napo_tracker import create_app

    app = create_app(
        "production",
        SQLALCHEMY_DATABASE_URI=database_url,
        SECRET_KEY="p" * 40,
        DATA_KEYS=TestingConfig.DATA_KEYS,  # the key the test database was built with
        INSTANCE_FILES_DIR=str(tmp_path / "files"),
    )
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert app.config["REMEMBER_COOKIE_NAME"].startswith("__Host-")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
