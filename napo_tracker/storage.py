"""Stored files: kept outside the web root under random names, each path checked to stay inside.

* ``save`` writes bytes under a random name in ``INSTANCE_FILES_DIR`` and returns the name,
  size and SHA-256; the file belongs to the current transaction and goes if it rolls back.
* ``path_for`` turns a stored name back into a path and refuses any name that would lead
  outside the store.
* ``delete`` and ``delete_after_commit`` remove a stored file now, or once its record's
  deletion is committed.

What may be stored, and how an upload is checked and cleaned first, is ``uploads``' business.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from .kernel import transaction

_STORED_NAME = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def files_dir() -> Path:
    path = Path(current_app.config["INSTANCE_FILES_DIR"]).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_for(stored_name: str) -> Path:
    """The path of a stored file; a name that is not one of ours is refused."""
    if not _STORED_NAME.match(stored_name or ""):
        raise ValueError("not a stored file name")
    root = files_dir()
    path = (root / stored_name).resolve()
    if path.parent != root:
        raise ValueError("stored file outside the store")
    return path


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    size_bytes: int
    sha256: str


def save(data: bytes) -> StoredFile:
    """Write bytes under a fresh random name (never overwriting) and return what was stored.

    The file belongs to the current transaction: if it rolls back, the file is removed, so
    a record that was never saved leaves no orphan behind.
    """
    stored_name = secrets.token_urlsafe(32)
    path = path_for(stored_name)
    with open(path, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    transaction.on_rollback(lambda: delete(stored_name))
    return StoredFile(stored_name, len(data), hashlib.sha256(data).hexdigest())


def delete(stored_name: str) -> None:
    """Remove a stored file now (a missing one is not an error)."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        path_for(stored_name).unlink()


def delete_after_commit(stored_name: str) -> None:
    """Remove a stored file once the deletion of its record is committed, and only then."""
    transaction.after_commit(lambda: delete(stored_name))
