"""Cells a spreadsheet would evaluate are neutralised; numbers and dates stay themselves."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from napo_tracker.csvexport import (
    CHUNK_CHARS,
    XLSX_MIMETYPE,
    ExportTooLarge,
    check_export_size,
    csv_response,
    csv_text,
    rows_in,
    safe_cell,
    streamed,
    xlsx_bytes,
    xlsx_response,
)
from napo_tracker.regions.models import Region


@pytest.mark.parametrize(
    "value, expected",
    [
        ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("\uff1d1+1", "'\uff1d1+1"),  # a full-width equals sign is read as one too
        ("Caseloads of 135 % - 145 %", "Caseloads of 135 % - 145 %"),
        (Decimal("-24.43"), "-24.43"),
        (Decimal("24.43"), "24.43"),
        (192, "192"),
        (date(2026, 11, 24), "2026-11-24"),
        (True, "yes"),
        (False, "no"),
        (2.5, "2.5"),
        (datetime(2026, 11, 24, 9, 30), "2026-11-24T09:30:00"),
        ("", ""),
        (None, ""),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_csv_text_round_trips_through_a_reader():
    text = csv_text(["region", "statement"], [["London", '=1+1, "quoted"\nnext line']])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["region", "statement"], ["London", '\'=1+1, "quoted"\nnext line']]


def test_csv_text_longer_than_one_chunk_is_whole():
    rows = [[f"Region {n}", "x" * 100] for n in range(2 * CHUNK_CHARS // 100)]
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerows([["region", "statement"], *rows])
    assert csv_text(["region", "statement"], rows) == expected.getvalue()


def test_a_csv_download_is_the_text_behind_a_byte_order_mark_under_its_name(app):
    with app.test_request_context():
        response = csv_response("cases-2026-12-02.csv", ["region", "statement"], [["London", "=1+1"]])
        assert response.is_streamed  # written as it is sent
        body = response.get_data()
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="cases-2026-12-02.csv"'
    assert body.decode() == "\ufeff" + csv_text(["region", "statement"], [["London", "=1+1"]])


def test_an_export_of_exactly_the_most_rows_is_made_and_one_more_is_refused(app):
    app.config["EXPORT_MAX_ROWS"] = 1_000
    check_export_size(1_000)
    with pytest.raises(ExportTooLarge) as refused:
        check_export_size(1_001)
    assert refused.value.message == (
        "This export would have 1,001 rows; one file holds at most 1,000. "
        "Narrow the list (by dates or region, for example) and export it in parts."
    )


def test_rows_are_counted_and_read_whatever_their_order(world):
    by_name = select(Region).order_by(Region.name)
    assert rows_in(by_name) == 2 and rows_in(by_name.where(Region.name == "Atlantis")) == 0
    assert [region.name for region in streamed(by_name)] == ["London", "Wales"]


def test_a_workbook_keeps_numbers_dates_and_text_as_they_are_and_evaluates_nothing():
    header = ["Region", "Value", "Places", "As of", "Verified", "Note"]
    rows: list[list[Any]] = [
        ["London", "24.40", 2, date(2024, 1, 31), True, "=SUM(A1:A2)"],
        ["Wales", "192", None, datetime(2024, 2, 1, 9, 30), False, None],
        ["National", "7.5", 3, Decimal("1.25"), None, "-2+3"],
    ]
    data = xlsx_bytes("Caseloads by region and by month", header, rows, places_column=2)
    response = xlsx_response("figures.xlsx", data)
    assert response.mimetype == XLSX_MIMETYPE and response.get_data() == data
    assert response.headers["Content-Disposition"] == 'attachment; filename="figures.xlsx"'
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None and sheet.title == "Caseloads by region and by mont"  # 31 characters at most
    cells = [[(cell.value, cell.data_type, cell.number_format) for cell in row] for row in sheet.iter_rows()]
    assert [value for value, _, _ in cells[0]] == header
    assert cells[1] == [
        ("London", "s", "General"),
        (24.4, "n", "0.00"),  # shown with the places the figure was given
        (2, "n", "General"),
        (datetime(2024, 1, 31), "d", "yyyy-mm-dd"),
        ("yes", "s", "General"),
        ("'=SUM(A1:A2)", "s", "General"),
    ]
    assert [(value, data_type) for value, data_type, _ in cells[2]] == [
        ("Wales", "s"),
        (192, "n"),
        (None, "n"),
        (datetime(2024, 2, 1, 9, 30), "d"),
        ("no", "s"),
        (None, "n"),
    ]
    assert cells[2][1][2] == "0"  # no places column: read off the text
    assert cells[3][1][:2] == (7.5, "n") and cells[3][1][2] == "0.000" and cells[3][3][:2] == (1.25, "n")
    assert cells[3][5] == ("'-2+3", "s", "General")
    untitled = load_workbook(io.BytesIO(xlsx_bytes("", ["A"], [["14.2"]]))).active
    assert untitled is not None and untitled.title == "Figures" and untitled["A2"].number_format == "0.0"
