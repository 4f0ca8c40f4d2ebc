"""The union's own references (CASE-2026-0042, FN-2026-0007, BRF3-26, EV-0042, TST-7KQ2-M9XD): made here.

Two people saving at the same moment can pick the same reference; the unique constraint on
the reference column catches it and ``insert_with_reference`` tries again with a fresh one.
Every record that carries a reference is inserted through it, and after a few clashes in a
row the person is told to try again (409), never shown a server error.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from .extensions import Model, db
from .kernel.errors import ConflictError

R = TypeVar("R", str, Sequence[str])
T = TypeVar("T")

# Thirty symbols with no look-alikes (no 0/O, 1/I/L, U/V), easy to read aloud and copy by
# hand. With no 0, a random reference can never look like a year (TST-2026-0013).
READABLE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
ATTEMPTS = 8
COLLISION_MESSAGE = (
    "We could not give this record a reference just now: others were saving at the same moment. Please try again."
)


class ReferenceCollision(ConflictError):
    """Every attempt found its reference already taken: the person is asked to try again (409)."""

    def __init__(self) -> None:
        super().__init__(COLLISION_MESSAGE)


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


def random_reference(prefix: str, groups: Sequence[int] = (4, 4)) -> str:
    """``{prefix}-XXXX-XXXX``: random symbols from ``READABLE_ALPHABET``, so a reference says
    nothing about when its record was made or how many came before it."""
    return "-".join([prefix, *("".join(secrets.choice(READABLE_ALPHABET) for _ in range(n)) for n in groups)])


def insert_with_reference(
    column: Any, make_reference: Callable[[], R], build: Callable[[R], T], attempts: int = ATTEMPTS
) -> T:
    """Insert what ``build(reference)`` makes and flush, retrying while ``column`` clashes.

    ``make_reference()`` gives one reference, or a list of them for a batch of rows that
    ``build`` inserts itself. An ORM record that ``build`` returns is added to the session.
    Each attempt runs in a savepoint, so a clash leaves the outer transaction usable. A
    unique constraint broken on another column is not a reference clash: its
    ``IntegrityError`` goes to the caller, whose rule it is.
    """
    for _ in range(attempts):
        reference = make_reference()
        savepoint = db.session.begin_nested()
        try:
            result = build(reference)
            if isinstance(result, Model):
                db.session.add(result)
            db.session.flush()
        except IntegrityError:
            savepoint.rollback()
            if not _taken(column, reference):
                raise
            continue
        savepoint.commit()
        return result
    raise ReferenceCollision()


def _taken(column: Any, reference: str | Sequence[str]) -> bool:
    """Whether a reference we just tried is in use: a clash waits for the other writer's
    commit, so its row is visible now."""
    references = [reference] if isinstance(reference, str) else list(reference)
    return bool(db.session.scalar(select(exists().where(column.in_(references)))))


def count_rows(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0
