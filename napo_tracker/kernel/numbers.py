"""The one way a figure is written, on pages, in exports, charts, the API and PDFs.

en-GB: "192%", "3,550 FTE", "14.20 FTE" (the decimal places the source gave, kept),
"60 days". Exports and the API take ``plain_figure``: the same exact digits without
thousands separators or unit, so a spreadsheet reads a number.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

# What follows a number of each unit (MetricUnit values).
UNIT_SUFFIX = {"percent": "%", "fte": " FTE", "days": " days", "count": "", "ratio": ""}
MAX_PLACES = 4


def places_of(value: Decimal) -> int:
    """The decimal places a value was written with: 14.20 → 2, 3.0 → 1, 650 → 0."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):
        return 0
    return min(max(-exponent, 0), MAX_PLACES)


def _exact(value: Decimal | int | float, places: int | None) -> Decimal:
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if places is None:
        normal = number.normalize()
        # normalize() writes 600 as 6E+2: bring it back to a whole number.
        return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal
    return number.quantize(Decimal(1).scaleb(-min(max(places, 0), MAX_PLACES)))


def plain_figure(value: Decimal | int | float | None, places: int | None = None) -> str:
    """Exact digits, no separators and no unit: '14.20', '650', '-3.5'. Empty for None."""
    if value is None:
        return ""
    text = f"{_exact(value, places):f}"
    return "0" if text in ("-0", "") else text


def format_figure(value: Decimal | int | float | None, unit: str = "", places: int | None = None) -> str:
    """A figure as people read it: '192%', '3,550 FTE', '14.20 FTE', '1,234'. Empty for None.

    ``places`` is how many decimal places to show (as the source gave them); None shows
    the value's own digits without trailing zeros.
    """
    if value is None:
        return ""
    exact = _exact(value, places)
    text = f"{exact:,f}"
    if text.startswith("-0") and exact == 0:
        text = text[1:]
    return text + UNIT_SUFFIX.get(unit, "")


def month_year(on: date) -> str:
    """'March 2022': how a citation dates a figure."""
    return f"{on:%B %Y}"


def long_date(on: date) -> str:
    """'2 December 2026'."""
    return f"{on.day} {on:%B %Y}"
