"""No CSV export hands a spreadsheet a formula: every text a person typed, starting with any of
the eleven characters spreadsheets read as the start of a formula, is exported inert.

The exports are found by what they answer (text/csv) among every page each role may open.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

import pytest

from napo_tracker.csvexport import FORMULA_TRIGGERS, safe_cell

from .poison import crawl, poison

# Written out here, not read from csvexport, so that dropping one there fails a test.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def test_the_eleven_triggers_are_the_ones_the_exporter_knows():
    assert set(FORMULA_TRIGGERS) == set(TRIGGERS) and len(FORMULA_TRIGGERS) == 11


@pytest.mark.parametrize("trigger", TRIGGERS, ids=[f"U+{ord(t):04X}" for t in TRIGGERS])
def test_each_trigger_is_made_inert(trigger):
    assert safe_cell(f"{trigger}HYPERLINK(1)") == f"'{trigger}HYPERLINK(1)"
    assert safe_cell(f"a{trigger}b") == f"a{trigger}b"  # only at the start of a cell


def _is_number(cell: str) -> bool:
    try:
        Decimal(cell)
    except InvalidOperation:
        return False
    return True


# Region names full of full-width signs reach the charts too; matplotlib warns that its font
# lacks them (the chart shows a box), which is not what this test is about.
@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_every_csv_export_neutralises_every_trigger(app, scene, visitor):
    poison(lambda n, column, room: f"{TRIGGERS[n % len(TRIGGERS)]}X{n}+1")
    exports: dict[str, int] = {}
    used: set[str] = set()
    failures = []
    for answer in crawl(visitor, scene):
        if answer.mimetype != "text/csv":
            continue
        assert answer.status == 200, f"{answer.endpoint} as {answer.role}: {answer.status}"
        text = answer.body.decode("utf-8").removeprefix("\ufeff")
        neutralised = 0
        for row in csv.reader(io.StringIO(text, newline="")):
            for cell in row:
                if cell.startswith(TRIGGERS) and not _is_number(cell):
                    failures.append(f"{answer.endpoint} as {answer.role}: {cell[:30]!r}")
                if cell.startswith("'") and cell[1:2] in TRIGGERS:
                    neutralised += 1
                    used.add(cell[1])
        exports[answer.endpoint] = max(exports.get(answer.endpoint, 0), neutralised)
    assert not failures, "\n".join(failures)
    # Every export carries typed text, and so was tested; the triggers met cover more than one.
    assert {"cases.export", "evidence.export", "notices.export", "testimonies.export"} <= exports.keys()
    assert all(exports[name] for name in ("cases.export", "evidence.export", "testimonies.export", "notices.export"))
    assert len(used) >= 3


def test_an_export_is_a_download_in_utf8_with_a_byte_order_mark(app):
    from napo_tracker.csvexport import csv_response

    with app.test_request_context():
        response = csv_response("cases.csv", ["title"], [["=1+1"]])
    assert response.headers["Content-Disposition"] == 'attachment; filename="cases.csv"'
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.get_data() == "\ufefftitle\r\n'=1+1\r\n".encode()
