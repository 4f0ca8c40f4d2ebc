"""Stored files: kept outside the web root under random names, each path checked to stay inside.

* ``save`` encrypts bytes with the data key (``crypto.py``), writes them under a random
  name in ``INSTANCE_FILES_DIR`` and returns the name, and the size and SHA-256 of the plain
  bytes; the file belongs to the current transaction and goes if it rolls back. ``read``
  decrypts a stored file again.
* ``path_for`` turns a stored name back into a path and refuses any name that would lead
  outside the store. A column that holds a stored name is marked ``info=STORED_FILE``, so
  ``keys rotate`` finds every file.
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
from typing import Any

from flask import current_app

from . import crypto
from .kernel import transaction

_STORED_NAME = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
# The ``info`` of a column holding a stored file's name: ``keys rotate`` re-encrypts what it names.
STORED_FILE = {"napo_stored_file": True}


def names_stored_file(column: Any) -> bool:
    return bool(column.info.get("napo_stored_file"))


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
    """Encrypt bytes and write them under a fresh random name (never overwriting); return
    the name, and the size and SHA-256 of the plain bytes.

    The file belongs to the current transaction: if it rolls back, the file is removed, so
    a record that was never saved leaves no orphan behind.
    """
    stored_name = _write_new(crypto.encrypt(data))
    return StoredFile(stored_name, len(data), hashlib.sha256(data).hexdigest())


def read(stored_name: str) -> bytes:
    """The plain bytes of a stored file. A name not of ours raises ``ValueError``, a missing
    file ``FileNotFoundError``, bytes no key can read ``crypto.UnreadableData``."""
    return crypto.decrypt(path_for(stored_name).read_bytes())


def reencrypt(stored_name: str) -> str:
    """Write a stored file again under the newest key, under a new name, and return that name.

    The caller points its record at the new name in the same transaction: the old file goes
    once that commits, the new one if it rolls back, so either name always holds readable bytes.
    """
    new_name = _write_new(crypto.reencrypt(path_for(stored_name).read_bytes()))
    delete_after_commit(stored_name)
    return new_name


def _write_new(content: bytes) -> str:
    stored_name = secrets.token_urlsafe(32)
    path = path_for(stored_name)
    with open(path, "xb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    transaction.on_rollback(lambda: delete(stored_name))
    return stored_name


def stored_names() -> list[str]:
    """Every file in the store, by stored name (a backup copies them all)."""
    return sorted(path.name for path in files_dir().iterdir() if path.is_file() and _STORED_NAME.match(path.name))


def delete(stored_name: str) -> None:
    """Remove a stored file now (a missing one is not an error)."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        path_for(stored_name).unlink()


def delete_after_commit(stored_name: str) -> None:
    """Remove a stored file once the deletion of its record is committed, and only then."""
    transaction.after_commit(lambda: delete(stored_name))
