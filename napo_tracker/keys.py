"""Key rotation: every encrypted value, keyed hash and stored file rewritten under the newest key.

``rotate(progress)`` works inside the caller's one transaction (``flask --app napo_tracker keys
rotate`` commits it). Values and hashes are rewritten in place; a file is written again under a
new name and its record pointed at that name, the old file removed only once the transaction
commits and the new one if it rolls back. Until the commit, every record names bytes the old
key reads; after it, bytes the newest key reads: a rotation killed half-way leaves all old or
all new, and nothing unreadable. (A process killed outright runs no clean-up at all: the new
files it wrote stay behind, unreferenced and encrypted.)

What to rewrite is read from the tables themselves: columns of an encrypted type
(``crypto.EncryptedText``, ``crypto.EncryptedBytes``), columns whose ``info`` names the encrypted
column they are the keyed hash of (``crypto.KEYED_HASH_OF``), and columns that name a stored
file (``storage.STORED_FILE``). A new encrypted field needs nothing more here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Column, Table, bindparam, func, insert, inspect, select, type_coerce, update
from sqlalchemy.types import TypeDecorator

from . import crypto, storage
from .extensions import db
from .kernel.errors import DomainError

BATCH_SIZE = 500


class RotationError(DomainError):
    """The rotation cannot finish; nothing it did is kept."""


@dataclass
class Rotated:
    values: int = 0
    hashes: int = 0
    files: int = 0


@dataclass
class _Table:
    table: Table
    key: Column
    encrypted: list[Column] = field(default_factory=list)
    hashes: list[tuple[Column, Column]] = field(default_factory=list)  # (hash column, its source)
    files: list[Column] = field(default_factory=list)


def _tables() -> Iterator[_Table]:
    for table in db.metadata.sorted_tables:
        found = _Table(table, table.c[next(iter(table.primary_key.columns)).key])
        found.encrypted = [c for c in table.columns if isinstance(c.type, crypto.ENCRYPTED_TYPES)]
        found.hashes = [
            (c, table.c[c.info[crypto.KEYED_HASH_OF]]) for c in table.columns if crypto.KEYED_HASH_OF in c.info
        ]
        found.files = [c for c in table.columns if storage.names_stored_file(c)]
        if not (found.encrypted or found.hashes or found.files):
            continue
        if len(table.primary_key.columns) != 1:
            raise RuntimeError(f"{table.name}: encrypted columns need a table with a one-column primary key")
        if not {source.key for _, source in found.hashes} <= {c.key for c in found.encrypted}:
            raise RuntimeError(f"{table.name}: a keyed hash is made from an encrypted column")
        yield found


def rotate(progress: Callable[[str], None]) -> Rotated:
    """Rewrite everything encrypted under the newest key, in the current transaction."""
    if not inspect(db.session.connection()).has_table(crypto.key_checks.name):
        raise RotationError("This database has no encrypted data yet: run `flask --app napo_tracker db upgrade` first.")
    done = Rotated()
    for plan in _tables():
        _rotate_table(plan, done, progress)
    if db.session.scalar(select(func.count()).select_from(crypto.key_checks)) == 0:
        db.session.execute(insert(crypto.key_checks).values(id=1, token=crypto.KEY_CHECK_TEXT))
    return done


def _rotate_table(plan: _Table, done: Rotated, progress: Callable[[str], None]) -> None:
    table = plan.table
    total = db.session.scalar(select(func.count()).select_from(table)) or 0
    if not total:
        return
    dialect = db.session.get_bind().dialect
    # Read the stored ciphertext as it is, to name the record that no key reads.
    raw = [type_coerce(c, c.type.impl_instance) for c in plan.encrypted]  # type: ignore[attr-defined]
    read = select(plan.key, *raw, *plan.files).order_by(plan.key).limit(BATCH_SIZE)
    new_values: dict[Any, Any] = {c: bindparam(f"_new_{c.key}", type_=c.type) for c in _written(plan)}
    # A rotation is not an edit: "updated at" columns keep their moment.
    new_values |= {c: c for c in table.columns if c.onupdate is not None and c not in new_values}
    write = update(table).where(plan.key == bindparam("_key")).values(new_values)
    seen, last = 0, None
    while True:
        rows = db.session.execute(read if last is None else read.where(plan.key > last)).all()
        if not rows:
            break
        batch = [_new_row(plan, row, dialect, done) for row in rows]
        db.session.execute(write, batch)
        seen += len(rows)
        last = rows[-1][0]
        progress(f"  {table.name}: {seen} of {total} records")


def _written(plan: _Table) -> list[Column]:
    return [*plan.encrypted, *(hash_column for hash_column, _ in plan.hashes), *plan.files]


def _new_row(plan: _Table, row: Any, dialect: Any, done: Rotated) -> dict[str, Any]:
    key, stored, names = row[0], row[1 : 1 + len(plan.encrypted)], row[1 + len(plan.encrypted) :]
    where = f"{plan.table.name} record {key}"
    params: dict[str, Any] = {"_key": key}
    plain: dict[str, Any] = {}
    for column, token in zip(plan.encrypted, stored, strict=True):
        try:
            value = None if token is None else cast(TypeDecorator, column.type).process_result_value(token, dialect)
        except crypto.UnreadableData:
            raise RotationError(
                f"{where}: none of the data keys can read its {column.key}. Nothing was changed."
            ) from None
        plain[column.key] = params[f"_new_{column.key}"] = value
        done.values += value is not None
    for hash_column, source in plan.hashes:
        number = plain[source.key]
        params[f"_new_{hash_column.key}"] = crypto.keyed_hash(number) if number else None
        done.hashes += bool(number)
    for column, name in zip(plan.files, names, strict=True):
        params[f"_new_{column.key}"] = _reencrypt_file(where, name) if name is not None else None
        done.files += name is not None
    return params


def _reencrypt_file(where: str, name: str) -> str:
    try:
        return storage.reencrypt(name)
    except (FileNotFoundError, ValueError):
        raise RotationError(f"{where}: its stored file {name} is missing. Nothing was changed.") from None
    except crypto.UnreadableData:
        raise RotationError(
            f"{where}: none of the data keys can read its stored file {name}. Nothing was changed."
        ) from None
