"""Cells a spreadsheet would evaluate are neutralised; numbers and dates stay themselves."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from napo_tracker.csvexport import CHUNK_CHARS, csv_text, safe_cell


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
