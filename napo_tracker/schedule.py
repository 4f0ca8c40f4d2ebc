"""The retention schedule: how long each kind of record is kept, from one setting.

``RETENTION_SCHEDULE`` maps each rule below to a period written ``"<n> days"``, ``"<n> months"``
or ``"<n> years"``. In the environment it is given whole as JSON
(``NAPO_RETENTION_SCHEDULE='{"closed_cases": "6 years", …}'``, every rule present) or one rule
at a time (``NAPO_RETENTION_SCHEDULE__closed_cases="8 years"``). It is checked when the app
starts: a malformed schedule stops the start, naming the setting and the rule.
``flask --app napo_tracker retention apply`` applies it; the privacy notice and docs quote it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import Flask, current_app
from flask_babel import ngettext

from .kernel.clock import add_months
from .kernel.errors import ConfigurationError

SETTING = "NAPO_RETENTION_SCHEDULE"
EXTENSION = "napo_retention_schedule"

# Each rule, and what happens to a record once its period has run without activity.
RULES: dict[str, str] = {
    "closed_cases": "a closed case is anonymised (and a member left with no case or notice is erased)",
    "testimony_originals": "a testimony's original words and answers are erased after its decision",
    "resolved_notices": "a resolved notice's links to members are removed (and its free text and letter erased)",
    "idle_accounts": "an account nobody has used is deactivated",
    "audit_entries": "an audit entry is deleted",
}
# A typing slip must not empty the audit log: it keeps a year at the very least.
MINIMUM_DAYS = {"audit_entries": 365}
_PERIOD = re.compile(r"^\s*(\d{1,4})\s*(day|days|month|months|year|years)\s*$", re.IGNORECASE)
_DAYS_PER_UNIT = {"days": 1, "months": 31, "years": 366}  # the longest each can be, for the bounds


@dataclass(frozen=True)
class Period:
    count: int
    unit: str  # "days" | "months" | "years"

    def before(self, on: date) -> date:
        """The day this period before ``on``: a record last active on it or earlier is due."""
        if self.unit == "days":
            return on - timedelta(days=self.count)
        return add_months(on, -self.count * (12 if self.unit == "years" else 1))

    @property
    def shortest_days(self) -> int:
        return self.count * {"days": 1, "months": 28, "years": 365}[self.unit]

    def __str__(self) -> str:
        unit = self.unit if self.count != 1 else self.unit[:-1]
        return f"{self.count} {unit}"

    def in_words(self) -> str:
        """The period in the page's language, with its plural form from Babel's rules."""
        if self.unit == "days":
            return ngettext("%(num)d day", "%(num)d days", self.count)
        if self.unit == "months":
            return ngettext("%(num)d month", "%(num)d months", self.count)
        return ngettext("%(num)d year", "%(num)d years", self.count)


def parse_period(text: Any) -> Period:
    """``"6 years"``, ``"30 days"``, ``"1 month"``: a whole number of days, months or years."""
    match = _PERIOD.match(str(text)) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a period: write it as '30 days', '18 months' or '6 years'")
    count, unit = int(match.group(1)), match.group(2).lower()
    unit = unit if unit.endswith("s") else unit + "s"
    if count < 1 or count * _DAYS_PER_UNIT[unit] > 100 * 366:
        raise ValueError(f"{text!r} is out of range: between 1 day and 100 years")
    return Period(count, unit)


def parse_schedule(value: Any) -> dict[str, Period]:
    """Every rule with its period; anything else refuses with a message naming the setting."""
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"{SETTING} must map each rule to a period, e.g. "
            '\'{"closed_cases": "6 years", "testimony_originals": "30 days", …}\'; '
            f"got {str(value)[:80]!r}"
        )
    unknown = sorted(set(value) - set(RULES))
    missing = [rule for rule in RULES if rule not in value]
    if unknown or missing:
        problems = []
        if unknown:
            problems.append(f"unknown rule(s) {', '.join(map(str, unknown))}")
        if missing:
            problems.append(f"missing rule(s) {', '.join(missing)}")
        raise ConfigurationError(f"{SETTING}: {'; '.join(problems)}. The rules are: {', '.join(RULES)}.")
    schedule: dict[str, Period] = {}
    for rule in RULES:
        try:
            period = parse_period(value[rule])
        except ValueError as error:
            raise ConfigurationError(f"{SETTING}, rule {rule}: {error}.") from None
        minimum = MINIMUM_DAYS.get(rule, 0)
        if period.shortest_days < minimum:
            raise ConfigurationError(f"{SETTING}, rule {rule}: keep at least {minimum} days, not {period}.")
        schedule[rule] = period
    return schedule


def init_app(app: Flask) -> None:
    """Check the schedule before the app serves anything or runs any command."""
    if "TESTIMONY_ORIGINAL_RETENTION_DAYS" in app.config:
        raise ConfigurationError(
            "NAPO_TESTIMONY_ORIGINAL_RETENTION_DAYS is replaced by the retention schedule: "
            f'set {SETTING}__testimony_originals="30 days" (or another period) instead.'
        )
    app.extensions[EXTENSION] = parse_schedule(app.config.get("RETENTION_SCHEDULE"))
    app.jinja_env.globals["retention_schedule"] = schedule  # pages quote the periods they promise


def schedule() -> dict[str, Period]:
    return current_app.extensions[EXTENSION]


def period(rule: str) -> Period:
    return schedule()[rule]


def cutoff(rule: str, on: date) -> date:
    """On ``on``, a record of this rule last active on the returned day or earlier is due."""
    return period(rule).before(on)
