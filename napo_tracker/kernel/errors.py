"""The one error vocabulary of every domain.

A service refuses a change by raising a ``DomainError``: a message for the person, and the
form field it belongs to where there is one. A change made from an out-of-date copy of a
record raises a ``ConflictError`` (409) that says what changed meanwhile. The transaction
boundary rolls back on either and turns it into the form message or page it should be.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

STALE_MESSAGE = "Someone else changed this after you opened it. Reload it and make your change again."


class ConfigurationError(RuntimeError):
    """The app refuses to start with unsafe, missing or malformed settings; the message names
    the setting and says what to do."""


class DomainError(Exception):
    """A change that breaks one of the union's rules; ``message`` is shown next to ``field``."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Change:
    """One field that differs between the saved record and what a person sent."""

    field: str
    label: str
    saved: str
    yours: str


class ConflictError(DomainError):
    """Someone saved the record after this form was opened; ``changes`` says what differs."""

    status_code = 409

    def __init__(self, message: str = STALE_MESSAGE, changes: Sequence[Change] = (), field: str | None = None) -> None:
        super().__init__(message, field)
        self.changes = list(changes)


class Versioned(Protocol):
    version: int


def check_version(
    record: Versioned,
    expected: int | None,
    *,
    conflict: type[ConflictError] = ConflictError,
    message: str = STALE_MESSAGE,
    changes: Callable[[], Sequence[Change]] | None = None,
) -> None:
    """Refuse a change made from another version of ``record`` than the one saved now.

    ``expected`` is the version the person's form was made from (``None``: not known, so not
    checked). ``changes`` lists what differs, for the message beside the form.
    """
    if expected is not None and expected != record.version:
        raise conflict(message, changes() if changes is not None else ())
