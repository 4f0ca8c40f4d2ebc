"""Sessions: a new one at sign-in (nothing planted before it survives), and every copy of a
session's cookies stops working at logout, at a password change (other devices) and at a
password reset (every device)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from ..factories import PASSWORD, Scene
from ..helpers import csrf_from, log_in, log_out
from .forms import form_data

REP_A = "rep.london@example.org"
NEW_PASSWORD = "velvet orbit lantern 472"


def _cookie(client: FlaskClient, name: str = "napo_session") -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def _browser_with(app: Flask, cookies: dict[str, str]) -> FlaskClient:
    browser = app.test_client()
    for name, value in cookies.items():
        browser.set_cookie(name, value)
    return browser


def _signed_in(browser: FlaskClient) -> bool:
    response = browser.get("/cases/")
    return response.status_code == 200


def test_signing_in_starts_a_new_session_and_keeps_nothing_planted_before(app, client, scene: Scene):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker who set this cookie"
    before = _cookie(client)
    assert log_in(client, REP_A, PASSWORD).status_code == 302
    after = _cookie(client)
    assert after != before
    with client.session_transaction() as session:
        assert "planted" not in session
    # The cookie from before the sign-in opens nothing.
    assert not _signed_in(_browser_with(app, {"napo_session": before}))
    assert _signed_in(client)


def test_logout_ends_every_copy_of_the_cookies(app, client, scene):
    log_in(client, REP_A, PASSWORD, remember=True)
    copies = {"napo_session": _cookie(client), "remember_token": _cookie(client, "remember_token")}
    assert _signed_in(_browser_with(app, copies))
    log_out(client)
    assert not _signed_in(_browser_with(app, copies))
    assert not _signed_in(_browser_with(app, {"remember_token": copies["remember_token"]}))
    assert not _signed_in(client)


def test_a_password_change_ends_the_other_devices(app, client, scene):
    log_in(client, REP_A, PASSWORD)
    other_device = app.test_client()
    log_in(other_device, REP_A, PASSWORD, remember=True)
    stolen = {"napo_session": _cookie(other_device), "remember_token": _cookie(other_device, "remember_token")}
    page = client.get("/account/password")
    data = form_data(page.data, "/account/password")
    for name, value in {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}.items():
        data.setlist(name, [value])
    assert client.post("/account/password", data=data).status_code == 302
    assert _signed_in(client)  # the device that changed it stays in
    assert not _signed_in(other_device)
    assert not _signed_in(_browser_with(app, stolen))


def test_a_password_reset_ends_every_device(app, client, scene):
    log_in(client, "rep.wales@example.org", PASSWORD, remember=True)
    copies = {"napo_session": _cookie(client), "remember_token": _cookie(client, "remember_token")}
    stranger = app.test_client()  # the person with the link, in another browser
    url = f"/login/reset/{scene.reset_token}"
    token = csrf_from(stranger.get(url).data)
    response = stranger.post(url, data={"csrf_token": token, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert not _signed_in(client)
    assert not _signed_in(_browser_with(app, copies))
    # The link works once.
    assert stranger.get(url).status_code in (400, 404)
