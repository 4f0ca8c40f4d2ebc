"""The importer's reasons, word for word, at the edges mutation testing found untested: a date
of today (taken) and tomorrow (refused), a statement's line breaks (taken) beside a title's
(refused), a unit of another region beside an unknown one, a rep's national row, a value with
no metric."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from napo_tracker.evidence.importer import import_csv, parse_date
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today

from .conftest import csv_bytes


def _reasons(actor, rows) -> dict[int, str]:
    report = import_csv(actor, io.BytesIO(csv_bytes(rows)), filename="t.csv")
    db.session.rollback()
    return {error.line: error.reason for error in report.errors}


SPREADSHEET_NUMBER = (
    r"^as_of '45000' looks like a spreadsheet date number; format the column as a date \(YYYY-MM-DD or DD/MM/YYYY\)$"
)


def test_a_date_of_today_is_taken_and_tomorrow_is_not():
    assert parse_date(today().isoformat()) == today()
    tomorrow = (today() + timedelta(days=1)).isoformat()
    with pytest.raises(ValueError, match=f"^as_of '{tomorrow}' is in the future$"):
        parse_date(tomorrow)
    with pytest.raises(ValueError, match=r"^as_of is empty: give the date the figure describes$"):
        parse_date("  ")
    with pytest.raises(ValueError, match=SPREADSHEET_NUMBER):
        parse_date("45000")


def test_each_row_says_what_is_wrong_with_it(world):
    row = ["London", "", "wmt_percent_avg", "150", "2024-01-31", "", "rep survey", "Survey", ""]
    rows = [
        row[:7] + ["A\ttitle"] + [""],  # line 2: a tab in a title
        ["London", "Cardiff and the Vale"] + row[2:],  # line 3: a unit of another region
        ["London", "Atlantis PDU"] + row[2:],  # line 4
        ["London", "", "", "150"] + row[4:],  # line 5
        [""] + row[1:],  # line 6: national, by a rep
        row[:8] + ["Two lines\nof statement"],  # line 7: fine, line breaks belong in a statement
    ]
    reasons = _reasons(world.london_rep, rows)
    assert 7 not in reasons and len(reasons) == 5
    assert reasons[2] == "source_ref contains control characters or text-direction overrides"
    assert reasons[3] == "unit 'Cardiff and the Vale' is not in London"
    assert reasons[4] == "unknown unit 'Atlantis PDU'"
    assert reasons[5] == "a value needs a metric"
    assert reasons[6] == "region is empty (a national figure); only national officials import those"
