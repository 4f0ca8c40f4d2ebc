"""The one formatter of figures: en-GB, thousands separators, the places a source gave."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from napo_tracker.kernel.numbers import format_figure, long_date, month_year, places_of, plain_figure


def test_figures_read_as_the_union_writes_them():
    assert format_figure(Decimal("192"), "percent") == "192%"
    assert format_figure(Decimal("3550"), "fte") == "3,550 FTE"
    assert format_figure(Decimal("14.20"), "fte", 2) == "14.20 FTE"
    assert format_figure(Decimal("14.2000"), "fte", 2) == "14.20 FTE"  # as stored, shown as given
    assert format_figure(Decimal("3.0"), "fte", 1) == "3.0 FTE"
    assert format_figure(Decimal("650.0000"), "count") == "650"
    assert format_figure(Decimal("1234567.5"), "days") == "1,234,567.5 days"
    assert format_figure(Decimal("-0"), "count") == "0"
    assert format_figure(None, "percent") == ""


def test_exact_digits_for_exports_and_the_api():
    assert plain_figure(Decimal("24.4300")) == "24.43"
    assert plain_figure(Decimal("24.4300"), 4) == "24.4300"
    assert plain_figure(Decimal("600")) == "600" and plain_figure(Decimal("6E+2")) == "600"
    assert [places_of(Decimal(t)) for t in ("14.20", "3.0", "650", "1E+2", "0.00001")] == [2, 1, 0, 0, 4]


def test_dates_in_citations():
    assert month_year(date(2022, 3, 31)) == "March 2022"
    assert long_date(date(2026, 12, 2)) == "2 December 2026"
