"""CSV and XLSX exports that spreadsheets cannot turn into formulas."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Response

# A cell starting with one of these is read as a formula by Excel, LibreOffice or Sheets.
_EXACT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value) -> str:
    """Text for one CSV cell; text that a spreadsheet would evaluate is prefixed with '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, Decimal, float)) and not isinstance(value, bool):
        return str(value)  # numbers stay numbers, negative ones included
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """A download with a UTF-8 BOM so that spreadsheets guess the encoding right."""
    body = "\ufeff" + csv_text(header, rows)
    response = Response(body, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(title: str, header: Sequence[str], rows: Iterable[Sequence], places_column: int | None = None) -> bytes:
    """One sheet that no spreadsheet evaluates: text is written as text (a leading ``=`` and the
    like prefixed, as in the CSV), numbers as numbers. Exact decimal text in a row becomes a
    number shown with the places it was given (``places_column`` names the column that says
    how many, or they are read off the text)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31] or "Figures"
    sheet.append([safe_cell(h) for h in header])
    for row in rows:
        cells: list[Any] = []
        places = row[places_column] if places_column is not None else None
        for value in row:
            if isinstance(value, bool):
                cells.append("yes" if value else "no")
            elif isinstance(value, (int, float, Decimal, date, datetime)):
                cells.append(value)
            elif value is None:
                cells.append(None)
            elif _EXACT.fullmatch(str(value)):
                number = Decimal(str(value))
                cell = Cell(sheet, value=number)
                shown = places if isinstance(places, int) else len(str(value).partition(".")[2])
                cell.number_format = "0" if not shown else "0." + "0" * shown
                cells.append(cell)
            else:
                cell = Cell(sheet, value=safe_cell(value))
                cell.data_type = "s"  # never a formula, whatever it starts with
                cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(filename: str, body: bytes) -> Response:
    response = Response(body, mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
