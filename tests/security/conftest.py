"""The security suite's world: one scene with every kind of record, built once per backend.

The scene (``tests.factories.make_scene``) is built into a database of its own; each test gets
a fresh copy of it (and of its stored files), as the other tests get a copy of the empty
migrated database, so tests may change anything. ``reset_database()`` puts the copy back as it
was in the middle of a test, after a request that changed something.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, update

from napo_tracker import create_app
from napo_tracker.accounts.models import PasswordReset, UserSession
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import utcnow

from .. import factories
from .. import pg as pg_cluster
from ..conftest import ROOT, cached_file, keep_in_cache
from ..helpers import csrf_from
from .routes import ROLES, Role

SCENE_DB = "napo_scene"


def _build_scene(url: str, files: Path) -> factories.Scene:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, INSTANCE_FILES_DIR=str(files))
    with app.app_context():
        scene = factories.make_scene()
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    return scene


def _as_if_built_now(path: Path, built_at: datetime) -> None:
    """A scene kept in the cache (``make mutation``'s runs last hours) is older than one a run
    builds: its sign-in sessions and reset links would have timed out, and a test opening one
    would fail for that rather than for what it tests. Their times move forward by its age."""
    age = utcnow() - built_at
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            for model, columns in (
                (UserSession, ("created_at", "last_seen_at", "expires_at")),
                (PasswordReset, ("created_at", "expires_at")),
            ):
                for row in connection.execute(select(model.id, *(getattr(model, name) for name in columns))):
                    moved = {name: getattr(row, name) + age for name in columns}
                    connection.execute(update(model).where(model.id == row.id).values(moved))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def scene_template(template_database, tmp_path_factory) -> dict:
    """A database holding the scene, to copy for each test, with the folder of its files."""
    folder = tmp_path_factory.mktemp("scene")
    files = folder / "files"
    files.mkdir()
    if template_database["backend"] == "sqlite":
        path = folder / "scene.sqlite"
        cached = cached_file(
            "scene", [ROOT / "migrations", ROOT / "tests" / "factories.py", ROOT / "tests" / "security" / "conftest.py"]
        )
        if cached is not None and cached.exists():
            shutil.copytree(cached, folder, dirs_exist_ok=True)
            scene = factories.Scene(**json.loads((folder / "scene.json").read_text()))
            _as_if_built_now(path, datetime.fromisoformat((folder / "built_at").read_text()))
        else:
            shutil.copyfile(template_database["path"], path)
            scene = _build_scene(f"sqlite:///{path}", files)
            (folder / "scene.json").write_text(json.dumps(dataclasses.asdict(scene)))
            (folder / "built_at").write_text(utcnow().isoformat())
            keep_in_cache(folder, cached)
        return {"backend": "sqlite", "path": path, "files": files, "scene": scene}
    from pytest_postgresql.janitor import DatabaseJanitor

    server: pg_cluster.PostgresServer = template_database["server"]
    janitor = DatabaseJanitor(
        user=server.user,
        host=server.host,
        port=server.port,
        dbname=SCENE_DB,
        template_dbname=template_database["dbname"],
        as_template=True,
    )
    janitor.init()
    scene = _build_scene(server.url(SCENE_DB), files)
    return {"backend": "postgresql", "server": server, "files": files, "scene": scene}


def _copy_files(scene_template: dict, tmp_path: Path) -> None:
    target = tmp_path / "files"  # where the ``app`` fixture keeps uploaded files
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(scene_template["files"], target)


def _janitor(server: pg_cluster.PostgresServer, dbname: str):
    from pytest_postgresql.janitor import DatabaseJanitor

    return DatabaseJanitor(
        user=server.user, host=server.host, port=server.port, dbname=dbname, template_dbname=SCENE_DB
    )


@pytest.fixture
def database_url(scene_template, tmp_path) -> Iterator[str]:
    """A fresh copy of the scene (overrides the empty database of the other tests)."""
    _copy_files(scene_template, tmp_path)
    if scene_template["backend"] == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copyfile(scene_template["path"], path)
        yield f"sqlite:///{path}"
        return
    server = scene_template["server"]
    dbname = f"napo_sec_{os.getpid()}_{id(tmp_path)}"
    with _janitor(server, dbname):
        yield server.url(dbname)


@pytest.fixture
def scene(scene_template) -> factories.Scene:
    return scene_template["scene"]


@pytest.fixture
def reset_database(app: Flask, database_url: str, scene_template, tmp_path) -> Callable[[], None]:
    """Put this test's database and files back as the scene left them."""

    def reset() -> None:
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
        _copy_files(scene_template, tmp_path)
        if scene_template["backend"] == "sqlite":
            path = Path(database_url.removeprefix("sqlite:///"))
            for suffix in ("-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(scene_template["path"], path)
            return
        janitor = _janitor(scene_template["server"], database_url.rsplit("/", 1)[1])
        janitor.drop()
        janitor.init()

    return reset


class Visitor:
    """The test client as one of the five roles: anonymous, a rep of region A, a rep of
    region B, a national official or an admin; with a CSRF token that works for every form."""

    def __init__(self, client: FlaskClient, scene: factories.Scene, login_as) -> None:
        self.client = client
        self.scene = scene
        self._login_as = login_as
        self.token = csrf_from(client.get("/login").data)
        self.role: Role = "anonymous"

    def user_id(self, role: Role) -> int | None:
        ids = {
            "rep_a": self.scene.rep_a_id,
            "rep_b": self.scene.rep_b_id,
            "official": self.scene.official_id,
            "admin": self.scene.admin_id,
        }
        return ids.get(role)

    def become(self, role: Role) -> None:
        """Sign in as ``role`` with a fresh server-side session (or sign out, for anonymous)."""
        from napo_tracker.accounts.models import User

        self.role = role
        ident = self.user_id(role)
        if ident is None:
            with self.client.session_transaction() as session:
                session.pop("_user_id", None)
            return
        user = db.session.get(User, ident)
        assert user is not None
        self._login_as(user)

    def user(self):
        from napo_tracker.accounts.models import User

        ident = self.user_id(self.role)
        return None if ident is None else db.session.get(User, ident)


@pytest.fixture
def visitor(client, scene, login_as) -> Visitor:
    return Visitor(client, scene, login_as)


@pytest.fixture(params=ROLES)
def role(request) -> Role:
    return request.param
