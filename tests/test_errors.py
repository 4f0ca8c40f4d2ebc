"""Friendly error pages that leak nothing: no traceback, no Werkzeug text, no settings."""

from __future__ import annotations

import pytest

from napo_tracker import create_app, security
from napo_tracker.extensions import db

LEAKS = (
    b"Traceback",
    b"Werkzeug",
    b"werkzeug",
    b"sqlalchemy",
    b'File "',
    b"The requested URL",
    b"The method is not allowed",
    b"SECRET",
    b"Internal Server Error",
)


def _assert_friendly(response, status: int, text: bytes) -> None:
    assert response.status_code == status
    assert text in response.data
    assert f"Error {status}".encode() in response.data
    for leak in LEAKS:
        assert leak not in response.data, leak
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_404_page(client, world, login_as):
    _assert_friendly(client.get("/no/such/page"), 404, b"There is nothing here")
    login_as(world.london_rep)
    _assert_friendly(client.get("/no/such/page"), 404, b"There is nothing here")


def test_405_page(client):
    response = client.get("/logout")
    _assert_friendly(response, 405, b"That kind of request is not accepted here.")
    assert response.headers["Allow"] == "OPTIONS, POST"
    _assert_friendly(client.put("/login"), 405, b"That kind of request is not accepted here.")


def test_csrf_failure_page(client):
    _assert_friendly(
        client.post("/login", data={"email": "a@example.org", "password": "x"}),
        400,
        b"This form has expired or was not sent from this site.",
    )


def test_403_page(client, world, login_as):
    login_as(world.london_rep)
    _assert_friendly(client.get("/admin/users/"), 403, b"Your account does not allow this.")


def test_json_errors_for_clients_that_ask_for_json(client, world, login_as):
    login_as(world.london_rep)
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "Not found",
        "detail": "There is nothing here, or it is not one you can see.",
    }


@pytest.fixture
def small_body_app(tmp_path):
    # No database is needed: the body is refused before any view runs.
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/unused.sqlite",
        INSTANCE_FILES_DIR=str(tmp_path / "files"),
        MAX_CONTENT_LENGTH=4096,
    )
    yield app
    _dispose(app)


def _dispose(app) -> None:
    with app.app_context():
        db.engine.dispose()


def test_413_for_an_over_large_body(small_body_app):
    client = small_body_app.test_client()
    response = client.post("/login", data={"email": "a@example.org", "password": "p" * 10_000})
    _assert_friendly(response, 413, b"larger than we accept")


def test_413_for_the_default_limit(client):
    # 25 MB is the default; 26 MB of form body is refused before it is parsed.
    body = b"email=a%40example.org&password=" + b"p" * (26 * 1024 * 1024)
    response = client.post("/login", data=body, content_type="application/x-www-form-urlencoded")
    _assert_friendly(response, 413, b"larger than we accept")


def test_500_page(tmp_path, monkeypatch):
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/unused.sqlite",
        INSTANCE_FILES_DIR=str(tmp_path / "files"),
        PROPAGATE_EXCEPTIONS=False,
    )

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(security, "PUBLIC_ENDPOINTS", security.PUBLIC_ENDPOINTS | {"boom"})
    response = app.test_client().get("/boom")
    _dispose(app)
    _assert_friendly(response, 500, b"Something went wrong on our side")
    assert b"hunter2" not in response.data
