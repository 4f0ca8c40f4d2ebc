"""The union's clock: one "today", in the union's own time zone.

A date stamped just after midnight in London must not be yesterday because the server
keeps UTC, so every date that is stamped or compared comes from ``today()``. Moments
(``*_at`` columns) are kept in UTC through ``utcnow()``.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

# England and Wales; the tzdata package guarantees it where the system lacks time-zone data.
UNION_TIME_ZONE = ZoneInfo("Europe/London")


def today(now: datetime | None = None) -> date:
    """Today's date in London (or the London date of ``now``, a timezone-aware moment)."""
    return (now or datetime.now(UTC)).astimezone(UNION_TIME_ZONE).date()


F = TypeVar("F", bound=Callable[..., Any])


def as_of_option(command: F) -> F:
    """A daily command's ``--date YYYY-MM-DD``, to run it as if on another day: the command
    is given ``day``, a date, London's today when the option is left out."""
    return click.option(
        "--date",
        "day",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        callback=lambda _context, _parameter, value: value.date() if value else today(),
        help="Pretend today is this day (YYYY-MM-DD).",
    )(command)


def utcnow() -> datetime:
    """The time now, timezone-aware in UTC: the default of every ``*_at`` column."""
    return datetime.now(UTC)


def add_months(on: date, months: int) -> date:
    """The same day ``months`` later (earlier when negative); a day the month lacks becomes its
    last day (31 January + 1 month = 28 or 29 February), as calendar-month deadlines count."""
    index = on.year * 12 + (on.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(on.day, calendar.monthrange(year, month)[1]))
