"""Erasure tombstones: that a member was erased, or a testimony withdrawn, holding nothing
about whom, so that a restore from an older backup can apply the erasure again.

Each tombstone is kept twice: in the database (``ErasureTombstone``, carried in every later
backup) and, once its transaction has committed, as one line of a ledger file
(``TOMBSTONE_LEDGER``; by default ``erasure-tombstones.jsonl`` in the instance folder), which
outlives a database that has to be restored.
Neither holds a time of day: the ledger's own modification time is set back to midnight.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..kernel import clock, transaction
from ..testimonies import reach
from ..testimonies.models import Testimony
from .models import ErasureTombstone, TombstoneKind

LEDGER_NAME = "erasure-tombstones.jsonl"
FIELDS = ("kind", "record_id", "number_hash", "erased_on", "account_action", "account_id")


def number_hash(membership_number: str) -> str:
    """A keyed hash of a membership number: it finds the member again in an older backup, and
    says nothing about the number to anyone without the app's secret key."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    key = hmac.new(secret, b"napo-tracker erasure tombstones", hashlib.sha256).digest()
    return hmac.new(key, membership_number.strip().encode(), hashlib.sha256).hexdigest()


def ledger_path() -> Path:
    """``TOMBSTONE_LEDGER``, or the ledger in the instance folder."""
    configured = current_app.config.get("TOMBSTONE_LEDGER")
    return Path(configured) if configured else Path(current_app.instance_path) / LEDGER_NAME


def as_dict(tombstone: ErasureTombstone) -> dict[str, Any]:
    return {
        "kind": tombstone.kind,
        "record_id": tombstone.record_id,
        "number_hash": tombstone.number_hash,
        "erased_on": tombstone.erased_on.isoformat(),
        "account_action": tombstone.account_action,
        "account_id": tombstone.account_id,
    }


def add(
    kind: TombstoneKind,
    record_id: int,
    erased_on: date,
    *,
    membership_number: str | None = None,
    account_action: str | None = None,
    account_id: int | None = None,
) -> ErasureTombstone:
    """Lay a tombstone (once per record) in the current transaction; its ledger line follows the commit."""
    existing = db.session.scalar(
        select(ErasureTombstone).where(ErasureTombstone.kind == kind.value, ErasureTombstone.record_id == record_id)
    )
    if existing is not None:
        return existing
    tombstone = ErasureTombstone(
        kind=kind.value,
        record_id=record_id,
        number_hash=number_hash(membership_number) if membership_number else None,
        erased_on=erased_on,
        account_action=account_action,
        account_id=account_id,
    )
    db.session.add(tombstone)
    db.session.flush()
    line = as_dict(tombstone)
    path = ledger_path()
    transaction.after_commit(lambda: _append(path, line))
    return tombstone


def _append(path: Path, line: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as ledger:
        ledger.write(json.dumps(line, sort_keys=True) + "\n")
        ledger.flush()
        os.fsync(ledger.fileno())
    midnight = datetime.combine(clock.today(), time.min, tzinfo=clock.UNION_TIME_ZONE).timestamp()
    os.utime(path, (midnight, midnight))


def read_ledger(path: Path | None = None) -> list[dict[str, Any]]:
    """The ledger's tombstones; a line that is not one is skipped (and said so by the caller's count)."""
    path = path or ledger_path()
    if not path.exists():
        return []
    found = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict) and _is_tombstone(line):
            found.append({field: line.get(field) for field in FIELDS})
    return found


def _is_tombstone(line: dict[str, Any]) -> bool:
    try:
        date.fromisoformat(str(line.get("erased_on")))
    except ValueError:
        return False
    return TombstoneKind.has_value(line.get("kind")) and isinstance(line.get("record_id"), int)


def in_database() -> list[dict[str, Any]]:
    return [as_dict(t) for t in db.session.scalars(select(ErasureTombstone).order_by(ErasureTombstone.id))]


def merge(*sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One tombstone per record, whichever source it came from."""
    merged: dict[tuple[str, int], dict[str, Any]] = {}
    for source in sources:
        for line in source:
            merged.setdefault((line["kind"], line["record_id"]), line)
    return list(merged.values())


@reach.on_withdrawal
def remember_withdrawal(testimony: Testimony) -> None:
    """A withdrawal outlives a restore from an older backup too."""
    add(TombstoneKind.TESTIMONY, testimony.id, testimony.withdrawn_on or clock.today())
