"""napo-tracker: casework, testimony and evidence tracking for a probation staff union."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import CONFIGS, DEFAULT_SECRET_KEY, ENV_PREFIX, config_name_from_env

from .extensions import bootstrap, csrf, db, limiter, login_manager, migrate
from .kernel.errors import ConfigurationError
from .kernel.ids import RecordIdConverter

__all__ = ["ConfigurationError", "create_app"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config_name_or_object: str | type | None = None, **overrides: Any) -> Flask:
    """Build the application.

    ``config_name_or_object`` is a name from ``config.CONFIGS`` or a config class; the
    environment (``NAPO_*``) is read next, and keyword ``overrides`` last (tests use them).
    """
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
        instance_relative_config=True,
    )
    config_obj = config_name_or_object or config_name_from_env()
    if isinstance(config_obj, str):
        if config_obj not in CONFIGS:
            raise ConfigurationError(f"unknown configuration {config_obj!r}; choose one of {sorted(CONFIGS)}")
        app.config["CONFIG_NAME"] = config_obj
        config_obj = CONFIGS[config_obj]
    else:
        app.config["CONFIG_NAME"] = getattr(config_obj, "__name__", "custom")
    app.config.from_object(config_obj)
    # The environment may set one key of a dict setting (NAPO_RETENTION_SCHEDULE__closed_cases):
    # it must change this app's copy, never the class every app shares.
    for key, value in list(app.config.items()):
        if isinstance(value, dict):
            app.config[key] = dict(value)
    app.config.from_prefixed_env(ENV_PREFIX)
    if "DATABASE_URL" in app.config:  # the one documented setting for the database
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config.update(overrides)
    _finish_config(app)
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    app.url_map.converters["id"] = RecordIdConverter
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    login_manager.init_app(app)
    from . import crypto, errors, i18n, schedule, security, submissions
    from .kernel import transaction

    crypto.init_app(app)
    crypto.check_database(app)  # a wrong key refuses to start, before anything reads or writes
    schedule.init_app(app)
    security.init_app(app)  # before CSRF: anonymous requests go to login before anything else
    csrf.init_app(app)
    bootstrap.init_app(app)
    i18n.init_app(app)
    limiter.init_app(app)
    transaction.init_app(app)
    submissions.init_app(app)  # after the transaction: its result is written before the commit
    errors.init_app(app)
    _register_blueprints(app)

    from .cli import register_cli

    register_cli(app)
    return app


# Each module holding a blueprint (``bp``), in the order they are registered, with the modules
# of its package that add routes, commands, home-page panels or error handlers to it.
BLUEPRINT_MODULES: dict[str, tuple[str, ...]] = {
    "main": ("views",),
    "help": ("views",),
    "jobs": ("views", "cli"),
    "accounts": ("views", "cli"),
    "regions": ("views",),
    "audit": ("views",),
    "testimonies": ("views", "cli", "panels", "errors", "jobs", "news"),
    "notifications": ("views", "cli", "jobs"),
    "cases": ("views", "deadline_views", "cli", "jobs"),
    "notices": ("views", "cli", "jobs"),
    "evidence": ("views", "cli", "jobs"),
    "briefings": ("views", "cli", "jobs", "withdrawals"),
    "api": ("views", "auth"),
    "api.tokens": (),
    "privacy": ("views", "jobs", "tombstones"),
    "search": ("views",),
    "letters": ("views",),
}


def _register_blueprints(app: Flask) -> None:
    """Import each package's route modules, then register its blueprint."""
    for package_name, module_names in BLUEPRINT_MODULES.items():
        package = importlib.import_module(f"{__name__}.{package_name}")
        for module_name in module_names:
            importlib.import_module(f"{__name__}.{package_name}.{module_name}")
        app.register_blueprint(package.bp)


def _finish_config(app: Flask) -> None:
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "napo_tracker.sqlite")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A file on this machine cannot drop the connection: no ping before each request.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config.get("INSTANCE_FILES_DIR"):
        app.config["INSTANCE_FILES_DIR"] = os.path.join(app.instance_path, "files")
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or "memory://"
    if app.config["CONFIG_NAME"] == "production":
        workers = worker_count(app.config)
        if workers > 1 and app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
            raise ConfigurationError(
                f"production refuses to run {workers} workers with rate limits counted in each one's memory: "
                f"set {ENV_PREFIX}_REDIS_URL (or {ENV_PREFIX}_RATELIMIT_STORAGE_URI) to a Redis URL, "
                f"or run one worker ({ENV_PREFIX}_WORKERS=1)"
            )
        key = app.config.get("SECRET_KEY")
        if not key or key == DEFAULT_SECRET_KEY or len(key) < 32:
            raise ConfigurationError(
                f"production needs {ENV_PREFIX}_SECRET_KEY set to a random value of at least 32 characters"
            )
        if app.config.get("DEBUG"):
            raise ConfigurationError(f"production refuses to run with DEBUG on (unset {ENV_PREFIX}_DEBUG)")
    elif not app.config.get("SECRET_KEY"):
        raise ConfigurationError(f"set {ENV_PREFIX}_SECRET_KEY")


def worker_count(config: Any) -> int:
    """How many processes serve requests: WORKERS, else gunicorn's own WEB_CONCURRENCY, else one."""
    raw = config.get("WORKERS")
    if raw is None or raw == "":
        raw = os.environ.get("WEB_CONCURRENCY") or 1
    try:
        count = int(raw)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{ENV_PREFIX}_WORKERS must be a whole number, not {raw!r}") from None
    if count < 1:
        raise ConfigurationError(f"{ENV_PREFIX}_WORKERS must be at least 1, not {count}")
    return count


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Foreign keys on, WAL journal, a busy timeout, and secure delete for every SQLite connection.

    Secure delete zeroes what a row held when it is deleted or rewritten, so data erased or
    replaced by its encrypted form does not linger in the file's free space (Debian's SQLite
    does this by default; not every build does)."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
        # A write transaction takes the write lock when it begins, waiting its turn: begun
        # deferred, a statement that reads before it writes (an FTS5 index does, in the search
        # triggers) cannot wait for another writer and fails at once with "database is locked".
        dbapi_connection.isolation_level = "IMMEDIATE"


@event.listens_for(Engine, "savepoint")
def _sqlite_savepoint_inside_transaction(connection, name) -> None:
    """pysqlite begins its transaction lazily, at the first INSERT/UPDATE/DELETE. A SAVEPOINT
    issued before that would become a transaction of its own, committed on release, so a
    later rollback would leave its writes behind: open the outer transaction first."""
    dbapi_connection = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite" and not dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
