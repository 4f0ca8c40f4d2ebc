"""Settings: one NAPO_ prefix, safe defaults, and a production configuration that refuses unsafe ones."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from napo_tracker import PROJECT_ROOT, ConfigurationError, create_app
from napo_tracker.crypto import generate_key
from napo_tracker.extensions import db

GOOD_KEY = "k" * 48


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("NAPO_") and name not in ("NAPO_TEST_BACKENDS", "NAPO_CHROMIUM", "NAPO_PG_BINDIR"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("key", [None, "", "dev-only-not-secret", "too-short-a-key"])
def test_production_refuses_a_missing_default_or_short_secret_key(monkeypatch, tmp_path, key):
    if key is not None:
        monkeypatch.setenv("NAPO_SECRET_KEY", key)
    with pytest.raises(ConfigurationError, match="NAPO_SECRET_KEY"):
        create_app("production", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.sqlite")


def test_production_refuses_debug(monkeypatch, tmp_path):
    monkeypatch.setenv("NAPO_SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("NAPO_DEBUG", "true")
    with pytest.raises(ConfigurationError, match="DEBUG"):
        create_app("production", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.sqlite")


def test_production_chosen_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NAPO_CONFIG", "production")
    with pytest.raises(ConfigurationError):
        create_app()
    monkeypatch.setenv("NAPO_SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("NAPO_DATABASE_URL", f"sqlite:///{tmp_path}/prod.sqlite")
    monkeypatch.setenv("NAPO_DATA_KEYS", generate_key())
    app = create_app()
    assert app.config["CONFIG_NAME"] == "production"
    assert app.config["SECRET_KEY"] == GOOD_KEY
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/prod.sqlite"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not app.debug
    response = app.test_client().get("/login", base_url="https://napo.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Secure" in response.headers["Set-Cookie"]
    with app.app_context():
        db.engine.dispose()


def test_unknown_configuration_name_is_refused(monkeypatch):
    monkeypatch.setenv("NAPO_CONFIG", "staging")
    with pytest.raises(ConfigurationError, match="unknown configuration 'staging'"):
        create_app()


def test_settings_come_from_napo_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("NAPO_DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite")
    monkeypatch.setenv("NAPO_LOGIN_RATE_LIMIT", "3 per minute")
    monkeypatch.setenv("NAPO_MAX_CONTENT_LENGTH", "1048576")
    monkeypatch.setenv("NAPO_RATELIMIT_STORAGE_URI", "memory://")
    monkeypatch.setenv("NAPO_DATA_KEYS", generate_key())
    app = create_app("development")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.sqlite"
    assert app.config["LOGIN_RATE_LIMIT"] == "3 per minute"
    assert app.config["MAX_CONTENT_LENGTH"] == 1048576  # JSON-looking values are parsed
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        assert str(db.engine.url) == f"sqlite:///{tmp_path}/env.sqlite"
        db.engine.dispose()


def test_development_default_is_sqlite_in_the_instance_folder():
    # The developer's own key where `make run` made one (it reads their database), else one for this test.
    has_dev_key = (PROJECT_ROOT / "instance" / "data.keys").exists()
    app = create_app("development", **({} if has_dev_key else {"DATA_KEYS": generate_key()}))
    assert app.config["DATA_KEY_FILE"] == "data.keys"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + os.path.join(
        app.instance_path, "napo_tracker.sqlite"
    )
    assert app.config["INSTANCE_FILES_DIR"] == os.path.join(app.instance_path, "files")
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert not app.debug


def test_sqlite_enforces_foreign_keys_and_uses_wal(app):
    if db.engine.dialect.name != "sqlite":
        assert db.session.execute(text("SELECT 1")).scalar() == 1
        return
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA secure_delete")).scalar() == 1


def _production(monkeypatch, tmp_path, **env: str):
    monkeypatch.setenv("NAPO_SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("NAPO_DATA_KEYS", generate_key())
    monkeypatch.setenv("NAPO_DATABASE_URL", f"sqlite:///{tmp_path}/prod.sqlite")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return create_app("production")


@pytest.mark.parametrize("workers", [{"NAPO_WORKERS": "4"}, {"WEB_CONCURRENCY": "3"}])
def test_production_refuses_several_workers_counting_limits_in_memory(monkeypatch, tmp_path, workers):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    with pytest.raises(ConfigurationError, match="rate limits counted in each one's memory: set NAPO_REDIS_URL"):
        _production(monkeypatch, tmp_path, **workers)
    with pytest.raises(ConfigurationError, match="memory"):
        _production(monkeypatch, tmp_path, NAPO_RATELIMIT_STORAGE_URI="memory://", **workers)


def test_production_with_redis_shares_the_limits_between_its_workers(monkeypatch, tmp_path):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    app = _production(monkeypatch, tmp_path, NAPO_WORKERS="4", NAPO_REDIS_URL="redis://127.0.0.1:6399/0")
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6399/0"
    one = _production(monkeypatch, tmp_path, NAPO_WORKERS="1", NAPO_REDIS_URL="")
    assert one.config["RATELIMIT_STORAGE_URI"] == "memory://"
    for application in (app, one):
        with application.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("value", ["many", "0"])
def test_a_worker_count_that_is_not_a_positive_number_is_refused(monkeypatch, tmp_path, value):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    with pytest.raises(ConfigurationError, match="NAPO_WORKERS must"):
        _production(monkeypatch, tmp_path, NAPO_WORKERS=value)


def test_development_may_run_several_workers_on_memory_limits(monkeypatch, tmp_path):
    monkeypatch.setenv("NAPO_WORKERS", "4")
    monkeypatch.setenv("NAPO_DATA_KEYS", generate_key())  # not the key file `make run` makes
    app = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/dev.sqlite")
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
