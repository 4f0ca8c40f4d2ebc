"""The retention schedule: one setting, checked at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from config import Config
from napo_tracker import create_app
from napo_tracker.kernel.clock import add_months
from napo_tracker.kernel.errors import ConfigurationError
from napo_tracker.schedule import Period, parse_period, parse_schedule

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = dict(Config.RETENTION_SCHEDULE)


def test_the_default_schedule_is_the_union_policy():
    schedule = parse_schedule(DEFAULT)
    assert {rule: str(period) for rule, period in schedule.items()} == {
        "closed_cases": "6 years",
        "testimony_originals": "30 days",
        "resolved_notices": "6 years",
        "idle_accounts": "1 year",
        "audit_entries": "7 years",
    }


def test_periods_count_back_in_calendar_days_months_and_years():
    assert parse_period("6 years").before(date(2026, 3, 5)) == date(2020, 3, 5)
    assert parse_period("1 year").before(date(2028, 2, 29)) == date(2027, 2, 28)
    assert parse_period("30 days").before(date(2026, 3, 5)) == date(2026, 2, 3)
    assert parse_period("18 Months").before(date(2026, 8, 31)) == date(2025, 2, 28)
    assert parse_period(" 1 day ") == Period(1, "days")
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


@pytest.mark.parametrize(
    "schedule, says",
    [
        ("6 years", "must map each rule to a period"),
        ({**DEFAULT, "closed_cases": "six years"}, "rule closed_cases: 'six years' is not a period"),
        ({**DEFAULT, "closed_cases": 6}, "rule closed_cases: 6 is not a period"),
        ({**DEFAULT, "idle_accounts": "0 days"}, "rule idle_accounts: '0 days' is out of range"),
        ({**DEFAULT, "audit_entries": "200 years"}, "out of range"),
        ({**DEFAULT, "audit_entries": "30 days"}, "rule audit_entries: keep at least 365 days"),
        ({**DEFAULT, "closed_case": "6 years"}, "unknown rule(s) closed_case"),
        ({k: v for k, v in DEFAULT.items() if k != "resolved_notices"}, "missing rule(s) resolved_notices"),
    ],
)
def test_a_malformed_schedule_refuses_to_start_naming_the_setting(tmp_path, schedule, says):
    with pytest.raises(ConfigurationError) as refused:
        create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.sqlite", RETENTION_SCHEDULE=schedule)
    assert "NAPO_RETENTION_SCHEDULE" in str(refused.value)
    assert says in str(refused.value)


def test_the_old_testimony_setting_is_refused_with_what_replaces_it(tmp_path):
    with pytest.raises(ConfigurationError, match=r"NAPO_RETENTION_SCHEDULE__testimony_originals"):
        create_app(
            "testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.sqlite", TESTIMONY_ORIGINAL_RETENTION_DAYS=10
        )


def test_one_rule_can_be_changed_from_the_environment_without_touching_other_apps(tmp_path, monkeypatch):
    monkeypatch.setenv("NAPO_RETENTION_SCHEDULE__closed_cases", "8 years")
    changed = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.sqlite")
    with changed.app_context():
        from napo_tracker.schedule import period

        assert str(period("closed_cases")) == "8 years"
        assert str(period("audit_entries")) == "7 years"
    assert Config.RETENTION_SCHEDULE["closed_cases"] == "6 years"  # the class every app shares is untouched


def test_a_command_will_not_start_with_a_malformed_schedule(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("NAPO_")}
    env.update(
        NAPO_CONFIG="testing",
        NAPO_DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite",
        NAPO_RETENTION_SCHEDULE='{"closed_cases": "six years"}',
    )
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "napo_tracker", "retention", "apply", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "NAPO_RETENTION_SCHEDULE" in result.stderr
