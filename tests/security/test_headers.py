"""The security headers are on every answer: pages, redirects, refusals and errors of every
kind, downloads, PDFs, CSV, JSON and static files (test_access.py checks every route's
answers; here, the error pages no route asks for, and production's HSTS)."""

from __future__ import annotations

from config import TestingConfig
from napo_tracker import create_app
from napo_tracker.cases import services as case_services
from napo_tracker.extensions import db

from .probe import assert_security_headers


def _check(response, context: str, status: int, **kwargs) -> None:
    assert response.status_code == status, f"{context}: {response.status_code}"
    assert_security_headers(response, context, **kwargs)


def test_errors_no_route_asks_for_carry_the_headers(app, client, visitor, scene):
    _check(client.get("/no/such/page"), "404 of the router", 404)
    _check(client.get("/cases/x/attachments/99999999999"), "404 of an id past the converter", 404)
    _check(client.put("/login"), "405", 405)
    _check(client.post("/login", data={"email": "x"}), "400 of CSRF", 400)
    _check(client.get("/api/v1/regions"), "401 of the API", 401)
    visitor.become("rep_a")
    app.config["MAX_CONTENT_LENGTH"] = 1000
    _check(
        client.post(f"/cases/{scene.case_a}/timeline", data={"csrf_token": visitor.token, "body": "x" * 5000}),
        "413",
        413,
    )


def test_a_server_error_carries_the_headers(app, client, visitor, scene, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: a 500 page, not a traceback

    def broken(*args, **kwargs):
        raise RuntimeError("the unexpected")

    monkeypatch.setattr(case_services, "allowed_transitions", broken)
    monkeypatch.setattr("napo_tracker.cases.views.allowed_transitions", broken)
    visitor.become("rep_a")
    response = client.get(f"/cases/{scene.case_a}")
    _check(response, "500", 500)
    assert b"the unexpected" not in response.data


def test_production_adds_strict_transport_security(database_url, tmp_path):
    app = create_app(
        "production",
        SQLALCHEMY_DATABASE_URI=database_url,
        SECRET_KEY="p" * 40,
        DATA_KEYS=TestingConfig.DATA_KEYS,  # the test database's own key: it checks its data
        INSTANCE_FILES_DIR=str(tmp_path / "files"),
    )
    client = app.test_client()
    try:
        for url in ("/login", "/healthz", "/no/such/page", "/static/css/app.css"):
            response = client.get(url, base_url="https://localhost")
            assert response.headers.get("Strict-Transport-Security", "").startswith("max-age="), url
            assert_security_headers(response, url, static=url.startswith("/static/"))
            response.close()
    finally:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()


def test_the_api_answers_an_anonymous_request_with_401_and_how_to_authenticate(client, scene):
    response = client.get("/api/v1/regions")
    assert response.status_code == 401
    assert response.get_json() == {"error": "authentication required"}
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="napo-tracker"'
