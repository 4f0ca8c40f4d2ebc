"""Encrypted backups: ``flask --app napo_tracker backup create PATH`` and ``backup restore PATH``.

A backup is one ZIP file holding:

* ``FORMAT`` — what the file is, in plain text;
* ``manifest.enc`` — the manifest, encrypted: the database kind and schema revision, the row
  count of every table, the SHA-256 and size of the database copy, and the name, SHA-256 and
  size of every stored file;
* ``database/000000.enc``, … — the database copy in encrypted chunks: SQLite's online backup
  API copies a consistent snapshot of the live file; PostgreSQL's ``pg_dump`` (custom format)
  runs on the exported snapshot that the row counts were read in;
* ``files/<stored name>.enc`` — every stored file (attachments), each encrypted.

Everything is encrypted with the newest data key (``crypto.encrypt``, authenticated AES-GCM
tokens) and read with any configured key: keep an old key as long as backups made under it are
kept. A restore first decrypts and checks everything into a private staging folder: a
truncated file, an entry too many or too few, a token that does not authenticate, a checksum
or a row count that does not match, or a backup of the other database kind is refused before
anything is touched. Only then is the database replaced (SQLite: the backup API into the live
file; PostgreSQL: the schema dropped and the dump replayed in one ``psql --single-transaction``,
so a failure leaves the old data), the files replaced, the schema brought up to date, and the
erasure tombstones of the replaced database, of the ledger and of the backup applied again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from .. import crypto, storage
from ..extensions import db
from ..kernel.clock import utcnow
from ..kernel.errors import DomainError
from .models import ErasureTombstone

FORMAT = "napo-tracker encrypted backup, format 1\n"
CHUNK_BYTES = 8 * 1024 * 1024
Progress = Callable[[str], Any]


class BackupError(DomainError):
    """A backup that cannot be made, or one refused for restoring; nothing was changed."""


@dataclass(frozen=True)
class Manifest:
    data: dict[str, Any]

    @property
    def tables(self) -> dict[str, int]:
        return self.data["tables"]

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        return self.data["files"]

    def summary(self) -> str:
        rows = sum(self.tables.values())
        return (
            f"{self.data['backend']} backup made {self.data['created_at']} at schema revision "
            f"{self.data['revision']}: {len(self.tables)} tables, {rows:,} rows, {len(self.files)} files"
        )


def backend() -> str:
    return db.engine.dialect.name


def _tool(name: str) -> str:
    folder = current_app.config.get("PG_BIN_DIR")
    found = os.path.join(folder, name) if folder else shutil.which(name)
    if not found or not os.path.exists(found):
        raise BackupError(f"{name} was not found: install PostgreSQL's client programs or set NAPO_PG_BIN_DIR.")
    return found


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A connection string for pg_dump/psql without the password, which goes in the environment."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {detail[-1] if detail else 'exit status ' + str(result.returncode)}")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def staging_folder() -> Iterator[Path]:
    """A folder only this user can read, inside the instance folder, removed afterwards."""
    os.makedirs(current_app.instance_path, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".backup-", dir=current_app.instance_path))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------- making a backup


@contextmanager
def _sqlite(path: str | Path) -> Iterator[sqlite3.Connection]:
    """A plain SQLite connection, closed afterwards (sqlite3's own ``with`` only commits)."""
    connection = sqlite3.connect(path)
    try:
        yield connection
    finally:
        connection.close()


def _revision_of(connection: Any) -> str:
    return str(connection.execute(text("SELECT version_num FROM alembic_version")).scalar() or "")


def _snapshot_sqlite(folder: Path) -> tuple[Path, dict[str, int], str]:
    source = db.engine.url.database
    if not source or source == ":memory:":
        raise BackupError("only a SQLite database in a file can be backed up.")
    copy = folder / "database.sqlite"
    with _sqlite(source) as live, _sqlite(copy) as target:
        live.backup(target)  # the online backup API: a consistent copy while the app runs
    with _sqlite(copy) as snapshot:
        names = [row[0] for row in snapshot.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        tables = {
            name: snapshot.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for name in sorted(names)
            if not name.startswith("sqlite_")
        }
        revision = str(snapshot.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    return copy, tables, revision


def _snapshot_postgresql(folder: Path) -> tuple[Path, dict[str, int], str]:
    dump = folder / "database.dump"
    dsn, env = _libpq(db.engine.url)
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection, connection.begin():
        # pg_dump reads the very snapshot the counts are taken in: they describe the same data.
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        names = inspect(connection).get_table_names()
        tables = {
            name: int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()) for name in sorted(names)
        }
        revision = _revision_of(connection)
        _run(
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                "--file",
                str(dump),
                "--dbname",
                dsn,
            ],
            env,
            "pg_dump",
        )
    return dump, tables, revision


def create_backup(path: str | Path, *, progress: Progress | None = None) -> Manifest:
    """Write an encrypted backup of the database and the stored files to ``path`` (a new file)."""
    say = progress or (lambda _text: None)
    target = Path(path)
    if target.exists():
        raise BackupError(f"{target} already exists: choose a new file name (backups are never overwritten).")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a folder.")
    partial = target.with_name(target.name + ".partial")
    with staging_folder() as folder:
        say("copying the database")
        if backend() == "sqlite":
            copy, tables, revision = _snapshot_sqlite(folder)
        elif backend() == "postgresql":
            copy, tables, revision = _snapshot_postgresql(folder)
        else:
            raise BackupError(f"backups of {backend()} databases are not supported.")
        files: dict[str, dict[str, Any]] = {}
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
                archive.writestr("FORMAT", FORMAT)
                say("encrypting the database")
                chunks = 0
                with open(copy, "rb") as source:
                    for block in iter(lambda: source.read(CHUNK_BYTES), b""):
                        archive.writestr(f"database/{chunks:06d}.enc", crypto.encrypt(block))
                        chunks += 1
                database = {"sha256": _sha256_file(copy), "size": copy.stat().st_size, "chunks": chunks}
                names = storage.stored_names()
                say(f"encrypting {len(names)} stored file(s)")
                for name in names:
                    try:
                        content = storage.path_for(name).read_bytes()
                    except FileNotFoundError:
                        continue  # deleted since the listing: its record is gone too
                    archive.writestr(f"files/{name}.enc", crypto.encrypt(content))
                    files[name] = {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
                manifest = {
                    "format": 1,
                    "created_at": utcnow().isoformat(timespec="seconds"),
                    "backend": backend(),
                    "revision": revision,
                    "tables": tables,
                    "database": database,
                    "files": files,
                }
                archive.writestr("manifest.enc", crypto.encrypt(json.dumps(manifest, sort_keys=True).encode()))
            os.replace(partial, target)
        finally:
            if partial.exists():
                partial.unlink()
    return Manifest(manifest)


# ---------------------------------------------------------------------------- checking and restoring


@dataclass
class Staged:
    manifest: Manifest
    database: Path
    files: Path


def _decrypt(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return crypto.decrypt(archive.read(name))
    except crypto.UnreadableData:
        raise BackupError(
            f"{name} cannot be decrypted: the backup was changed, or it was made with a data key "
            "that is not configured (NAPO_DATA_KEYS)."
        ) from None


def verify(path: str | Path, folder: Path, *, progress: Progress | None = None) -> Staged:
    """Decrypt and check the whole backup into ``folder``; refuse anything that does not add up."""
    say = progress or (lambda _text: None)
    source = Path(path)
    if not source.is_file():
        raise BackupError(f"{source} is not a file.")
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        raise BackupError(f"{source} is not a complete backup (truncated or damaged: {error}).") from None
    with archive:
        try:
            return _verify(archive, folder, say)
        except (zipfile.BadZipFile, OSError, EOFError, KeyError, ValueError) as error:
            raise BackupError(f"{source} is damaged and was refused ({error}).") from None


def _verify(archive: zipfile.ZipFile, folder: Path, say: Progress) -> Staged:
    if archive.read("FORMAT").decode("utf-8", "replace") != FORMAT:
        raise BackupError("this is not a napo-tracker backup of a format this version reads.")
    say("checking the manifest")
    manifest = Manifest(json.loads(_decrypt(archive, "manifest.enc")))
    data = manifest.data
    if data.get("backend") != backend():
        raise BackupError(f"this is a {data.get('backend')} backup; the configured database is {backend()}.")
    _check_revision(str(data.get("revision")))
    chunk_names = [f"database/{n:06d}.enc" for n in range(int(data["database"]["chunks"]))]
    expected = {"FORMAT", "manifest.enc", *chunk_names, *(f"files/{name}.enc" for name in manifest.files)}
    present = set(archive.namelist())
    if present != expected:
        raise BackupError(
            f"the backup's entries do not match its manifest ({len(expected - present)} missing, "
            f"{len(present - expected)} unexpected): it was changed after it was made."
        )
    say("decrypting the database")
    database = folder / ("database.sqlite" if backend() == "sqlite" else "database.dump")
    digest = hashlib.sha256()
    with open(database, "wb") as out:
        for name in chunk_names:
            block = _decrypt(archive, name)
            digest.update(block)
            out.write(block)
    if digest.hexdigest() != data["database"]["sha256"]:
        raise BackupError("the database copy does not match its checksum: the backup was changed.")
    say(f"decrypting {len(manifest.files)} stored file(s)")
    files = folder / "files"
    files.mkdir()
    for name, facts in manifest.files.items():
        storage.path_for(name)  # a name that is not one of ours is refused here
        content = _decrypt(archive, f"files/{name}.enc")
        if hashlib.sha256(content).hexdigest() != facts["sha256"]:
            raise BackupError(f"stored file {name} does not match its checksum: the backup was changed.")
        (files / name).write_bytes(content)
    say("checking the database copy")
    if backend() == "sqlite":
        _check_sqlite_copy(database, manifest.tables)
    else:
        _run([_tool("pg_restore"), "--list", str(database)], dict(os.environ), "reading the PostgreSQL dump")
    return Staged(manifest, database, files)


def _check_revision(revision: str) -> None:
    from alembic.script import ScriptDirectory

    config = current_app.extensions["migrate"].migrate.get_config()
    scripts = ScriptDirectory.from_config(config)
    try:
        known = scripts.get_revision(revision)
    except Exception:  # alembic raises several kinds for an unknown or malformed id
        known = None
    if known is None:
        raise BackupError(
            f"the backup is at schema revision {revision!r}, which this version of napo-tracker does not know: "
            "restore it with the version that made it."
        )


def _check_sqlite_copy(path: Path, tables: dict[str, int]) -> None:
    with _sqlite(path) as copy:
        if copy.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("the database copy fails SQLite's integrity check.")
        for name, count in tables.items():
            found = copy.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            if found != count:
                raise BackupError(f"table {name} holds {found} rows; the manifest says {count}.")


def replace_database(staged: Staged) -> None:
    """Put the staged copy in place of the live database (the caller has checked it)."""
    db.session.remove()
    db.engine.dispose()
    if backend() == "sqlite":
        live = db.engine.url.database
        assert live
        with _sqlite(staged.database) as copy, _sqlite(live) as target:
            copy.backup(target)
        return
    dsn, env = _libpq(db.engine.url)
    script = staged.database.with_suffix(".sql")
    _run(
        [_tool("pg_restore"), "--no-owner", "--no-privileges", "--file", str(script), str(staged.database)],
        env,
        "pg_restore",
    )
    wrapper = staged.database.with_name("restore.sql")
    wrapper.write_text(f"DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n\\i {script}\n", encoding="utf-8")
    # One transaction: if any statement fails, psql rolls back and the old data stays.
    _run(
        [_tool("psql"), "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1", "-f", str(wrapper), dsn],
        env,
        "restoring the PostgreSQL database",
    )


def replace_files(staged: Staged) -> None:
    """The stored files become exactly the backup's."""
    live = storage.files_dir()
    old = live.with_name(live.name + ".before-restore")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(live, old)
    try:
        shutil.copytree(staged.files, live)
    except OSError:
        shutil.rmtree(live, ignore_errors=True)
        os.replace(old, live)
        raise
    shutil.rmtree(old, ignore_errors=True)


def current_tombstones() -> list[dict[str, Any]] | None:
    """The tombstones of the database about to be replaced, read on a connection of their own;
    None when it cannot be read (a database lost or broken is why one restores)."""
    table = ErasureTombstone.__table__
    try:
        with db.engine.connect() as connection:
            rows = connection.execute(select(table).order_by(table.c.id)).mappings().all()
    except SQLAlchemyError:
        return None
    return [
        {
            "kind": row["kind"],
            "record_id": row["record_id"],
            "number_hash": row["number_hash"],
            "erased_on": row["erased_on"].isoformat(),
            "account_action": row["account_action"],
            "account_id": row["account_id"],
        }
        for row in rows
    ]


def count_rows() -> dict[str, int]:
    """Every table's row count in the live database (a restore is checked against its manifest)."""
    with db.engine.connect() as connection:
        names = [n for n in inspect(connection).get_table_names() if not n.startswith("sqlite_")]
        return {name: int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()) for name in names}
