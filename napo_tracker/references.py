"""The union's own references (CASE-2026-0042, FN-2026-0007, BRF3-26): made once, here.

Two people saving at the same moment can pick the same next number; the unique
constraint on the reference column catches it and the insert is retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .extensions import db

T = TypeVar("T")


class ReferenceCollision(RuntimeError):
    """Could not find a free reference after several attempts."""


def next_numbered_reference(column: Any, prefix: str, suffix: str = "", width: int = 4) -> str:
    """The next ``{prefix}{n:0width}{suffix}`` after the highest one already used."""
    pattern = f"{prefix}%{suffix}"
    used = db.session.scalars(select(column).where(column.like(pattern))).all()
    highest = 0
    for reference in used:
        middle = reference[len(prefix) : len(reference) - len(suffix) if suffix else None]
        if middle.isdigit():
            highest = max(highest, int(middle))
    return f"{prefix}{highest + 1:0{width}d}{suffix}"


def insert_with_reference(make_reference: Callable[[], str], build: Callable[[str], T], attempts: int = 8) -> T:
    """Add ``build(reference)`` to the session and flush, retrying on a reference clash.

    Each attempt runs in a savepoint, so a clash leaves the outer transaction usable.
    """
    for _ in range(attempts):
        reference = make_reference()
        savepoint = db.session.begin_nested()
        try:
            record = build(reference)
            db.session.add(record)
            db.session.flush()
        except IntegrityError:
            savepoint.rollback()
            continue
        savepoint.commit()
        return record
    raise ReferenceCollision("could not allocate a unique reference; please try again")


def count_rows(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0
