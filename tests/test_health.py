"""GET /healthz: 200 when the database answers, 503 when it does not (real failures, no mocks)."""

from __future__ import annotations

import socket

import pytest

from napo_tracker import create_app
from napo_tracker.extensions import db


def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: nothing listens there


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-napo-dir/missing/napo.sqlite",
        f"postgresql+psycopg://napo@127.0.0.1:{_closed_port()}/napo?connect_timeout=2",
    ],
)
def test_unhealthy_when_the_database_does_not_answer(tmp_path, url):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, INSTANCE_FILES_DIR=str(tmp_path / "files"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}
    assert b"Traceback" not in response.data and b"127.0.0.1" not in response.data
    with app.app_context():
        db.engine.dispose()
