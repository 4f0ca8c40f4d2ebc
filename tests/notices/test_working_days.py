"""Working-day arithmetic: weekends and England-and-Wales bank holidays never count."""

from __future__ import annotations

from datetime import date

import pytest

from napo_tracker.notices.services import add_working_days, is_working_day, working_days_until


@pytest.mark.parametrize(
    "start, days, expected",
    [
        # Monday + 4 stays in the week; + 5 crosses the weekend to the next Monday.
        (date(2026, 3, 2), 4, date(2026, 3, 6)),
        (date(2026, 3, 2), 5, date(2026, 3, 9)),
        # Served on a Friday: Saturday and Sunday are skipped.
        (date(2026, 3, 6), 1, date(2026, 3, 9)),
        # Served on a Saturday: the first working day is Monday.
        (date(2026, 3, 7), 1, date(2026, 3, 9)),
        # Easter 2026: Good Friday 3 April and Easter Monday 6 April are bank holidays.
        (date(2026, 4, 1), 2, date(2026, 4, 7)),
        # Early May bank holiday, Monday 4 May 2026.
        (date(2026, 5, 1), 1, date(2026, 5, 5)),
        # Christmas 2026: Fri 25 and Mon 28 (substitute for Boxing Day on a Saturday) are skipped.
        (date(2026, 12, 14), 10, date(2026, 12, 30)),
        # ... and New Year's Day (Fri 1 January 2027) too: 22-24, 29-31 Dec, 4-7 Jan.
        (date(2026, 12, 21), 10, date(2027, 1, 7)),
        (date(2026, 12, 24), 1, date(2026, 12, 29)),
        (date(2026, 12, 31), 1, date(2027, 1, 4)),
        (date(2026, 3, 2), 0, date(2026, 3, 2)),
    ],
)
def test_add_working_days(start, days, expected):
    assert add_working_days(start, days) == expected


def test_bank_holidays_of_england_and_wales_not_scotland():
    assert not is_working_day(date(2026, 12, 25))
    assert not is_working_day(date(2026, 12, 28))  # substitute day for Boxing Day on a Saturday
    assert not is_working_day(date(2026, 8, 31))  # summer bank holiday, England and Wales
    assert is_working_day(date(2026, 8, 3))  # Scotland's summer holiday is not ours
    assert is_working_day(date(2027, 1, 4))
    assert not is_working_day(date(2027, 1, 2))  # 2 January is a holiday in Scotland only, and a Saturday


def test_working_days_until():
    assert working_days_until(date(2026, 12, 23), date(2026, 12, 29)) == 2  # 24th, 29th
    assert working_days_until(date(2026, 3, 9), date(2026, 3, 9)) == 0
    assert working_days_until(date(2026, 3, 10), date(2026, 3, 9)) == 0


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 3, 2), -1)
