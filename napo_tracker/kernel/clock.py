"""The union's clock: one "today", in the union's own time zone.

A date stamped just after midnight in London must not be yesterday because the server
keeps UTC, so every date that is stamped or compared comes from ``today()``. Moments
(``*_at`` columns) are kept in UTC through ``utcnow()``.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

# England and Wales; the tzdata package guarantees it where the system lacks time-zone data.
UNION_TIME_ZONE = ZoneInfo("Europe/London")


def today(now: datetime | None = None) -> date:
    """Today's date in London (or the London date of ``now``, a timezone-aware moment)."""
    return (now or datetime.now(UTC)).astimezone(UNION_TIME_ZONE).date()


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
