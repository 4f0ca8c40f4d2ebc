"""Working days: Monday to Friday, less the bank holidays of England and Wales.

One rule for every deadline counted in working days: a notice's response, an escalation
step, a case's deadline of that kind.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a bank holiday of England and Wales."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself never counts)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_until(today: date, due: date) -> int:
    """Working days from ``today`` to ``due`` (0 when due today or past)."""
    count, current = 0, today
    while current < due:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count
