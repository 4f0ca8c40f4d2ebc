"""Fixtures shared by every test.

Each test that touches the database runs twice: on SQLite and on PostgreSQL. The schema
is built once per backend by running the real migrations into a template database; each
test then gets its own fresh copy (a file copy for SQLite, CREATE DATABASE … TEMPLATE for
PostgreSQL), so tests may commit freely and nothing leaks from one to the next, even
when a test fails.

Under CI=true a missing PostgreSQL, redis-server or browser fails the run instead of skipping.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from napo_tracker import create_app
from napo_tracker.accounts.sessions import start_session
from napo_tracker.extensions import db

from . import factories, mailbox, pg, redis_server

IN_CI = os.environ.get("CI") == "true"
# `make mutation` runs the tests hundreds of times: it keeps the migrated SQLite template (and
# the security suite's scene) in this folder between runs, keyed by what they are built from.
CACHE_DIR = os.environ.get("NAPO_TEST_CACHE_DIR")
ROOT = Path(__file__).resolve().parent.parent
BACKENDS = [
    name.strip() for name in os.environ.get("NAPO_TEST_BACKENDS", "sqlite,postgresql").split(",") if name.strip()
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
_counter = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    """``@pytest.mark.sqlite_only`` tests are not collected for the other backends (say why
    beside the mark): deselected up front, so no database or browser is set up for them."""
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec else None
        is_dropped = item.get_closest_marker("sqlite_only") and backend not in (None, "sqlite")
        (drop if is_dropped else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def cached_file(name: str, sources: list[Path]) -> Path | None:
    """Where a file built from ``sources`` is kept between runs (None: no cache)."""
    if not CACHE_DIR:
        return None
    digest = hashlib.sha256()
    for source in sources:
        for path in sorted(source.rglob("*.py") if source.is_dir() else [source]):
            digest.update(path.read_bytes())
    return Path(CACHE_DIR) / f"{name}-{digest.hexdigest()[:16]}"


def keep_in_cache(built: Path, cached: Path | None) -> None:
    """Keep what the unchanged code built; never what a mutant's run built (mutmut names the
    mutant under test in MUTANT_UNDER_TEST; "stats" and "" are its runs of the unchanged code)."""
    if cached is None or os.environ.get("MUTANT_UNDER_TEST", "") not in ("", "stats", "list_all_tests"):
        return
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f"{cached.name}.{os.getpid()}")
    if built.is_dir():
        shutil.copytree(built, partial)
    else:
        shutil.copyfile(built, partial)
    partial.rename(cached)


def unavailable(reason: str) -> NoReturn:
    """Fail under CI, skip on a developer's machine."""
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)", pytrace=False)
    pytest.skip(reason)


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PostgresServer]:
    bindir = pg.find_bindir()
    if bindir is None:
        unavailable("PostgreSQL server binaries not found (make test installs postgresql)")
    server = pg.start(bindir)
    yield server
    pg.stop(server, bindir)


@pytest.fixture(scope="session")
def redis_service() -> Iterator[redis_server.RedisServer]:
    """Debian's redis-server, for the session; stopped and started again by tests of Redis going away."""
    binary = redis_server.find_binary()
    if binary is None:
        unavailable("redis-server not found (make test installs Debian's redis-server)")
    server = redis_server.start(binary)
    yield server
    redis_server.remove(server)


@pytest.fixture
def redis_url(redis_service) -> str:
    """The session's Redis, running and emptied for this test."""
    if redis_service.process is None:
        redis_service.start()
    from redis import Redis

    with Redis.from_url(redis_service.url) as client:
        client.flushall()
    return redis_service.url


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def template_database(backend, tmp_path_factory, request):
    """A migrated database that every test's database is copied from."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite"
        cached = cached_file("template", [ROOT / "migrations"])
        if cached is not None and cached.exists():
            shutil.copyfile(cached, path)
        else:
            _migrate(f"sqlite:///{path}")
            keep_in_cache(path, cached)
        return {"backend": "sqlite", "path": path}
    server: pg.PostgresServer = request.getfixturevalue("pg_server")
    from pytest_postgresql.janitor import DatabaseJanitor

    janitor = DatabaseJanitor(
        user=server.user, host=server.host, port=server.port, dbname="napo_template", as_template=True
    )
    janitor.init()
    _migrate(server.url("napo_template"))
    return {"backend": "postgresql", "server": server, "dbname": "napo_template"}


@pytest.fixture
def database_url(template_database, tmp_path) -> Iterator[str]:
    """A fresh, migrated, empty database for one test."""
    if template_database["backend"] == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copyfile(template_database["path"], path)
        yield f"sqlite:///{path}"
        return
    from pytest_postgresql.janitor import DatabaseJanitor

    server = template_database["server"]
    dbname = f"napo_test_{os.getpid()}_{next(_counter)}"
    with DatabaseJanitor(
        user=server.user, host=server.host, port=server.port, dbname=dbname, template_dbname=template_database["dbname"]
    ):
        yield server.url(dbname)


@pytest.fixture
def app_overrides() -> dict:
    """Override to change settings for one test module: ``@pytest.fixture def app_overrides()``."""
    return {}


class FreshGlobalsClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``, as in production.

    The ``app`` fixture keeps one app context pushed for the whole test (so the test can
    use ``db.session``), and Flask reuses it for each request: without this, ``g`` would
    carry the logged-in user (Flask-Login) and the CSRF token (Flask-WTF) from one request
    to the next, and ``login_as(other_user)`` would silently keep the first user.
    """

    def open(self, *args, **kwargs):
        g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, app_overrides, tmp_path) -> Iterator[Flask]:
    application = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        INSTANCE_FILES_DIR=str(tmp_path / "files"),
        TOMBSTONE_LEDGER=str(tmp_path / "erasure-tombstones.jsonl"),
        **app_overrides,
    )
    application.test_client_class = FreshGlobalsClient
    with application.app_context():
        yield application
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    redis_client = application.extensions.get("napo_redis")  # made by the jobs' queue, when used
    if redis_client is not None:
        redis_client.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def world(app) -> factories.World:
    """Two regions with units, a rep in each, an official and an admin."""
    return factories.make_world()


@pytest.fixture
def mail_server(app):
    """A real SMTP server the app sends to; yields its inbox."""
    inbox, controller = mailbox.start()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=controller.port,
        MAIL_TIMEOUT=5,
        PUBLIC_BASE_URL="https://tracker.example.org",
    )
    yield inbox
    controller.stop()


@pytest.fixture
def login_as(client):
    """Log the test client in as a user (made with factories.make_user)."""

    def _login(user):
        token = start_session(user)
        db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"] = f"{user.id}:{token}"
            session["_fresh"] = True
        return user

    return _login


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app served on 127.0.0.1 by a real HTTP server in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


CHROMIUM = os.environ.get("NAPO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        unavailable(f"Chromium not found at {CHROMIUM} (make test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser context and page; a screenshot is saved under tests/artifacts/."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        context.close()
