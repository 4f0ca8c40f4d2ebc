"""CSV and XLSX exports that spreadsheets cannot turn into formulas; CSV written as it is sent.

A CSV export is counted first (``rows_in``): above ``EXPORT_MAX_ROWS`` it is refused with a
400 that says how to narrow it; otherwise its rows are read from the database in batches
(``streamed``) and written to the response one by one, so no export is ever held whole in
memory, and the first bytes leave at once.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Response, current_app, stream_with_context
from sqlalchemy import Select, func, select
from sqlalchemy.engine import ScalarResult

from .extensions import db
from .kernel.errors import DomainError

_EXACT = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # exact decimal text, written to XLSX as a number
# A cell starting with one of these is read as a formula by Excel, LibreOffice or Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
CHUNK_CHARS = 64 * 1024  # what is sent at a time
BATCH_ROWS = 1000  # records read from the database at a time


class ExportTooLarge(DomainError):
    """An export longer than one file may be (``EXPORT_MAX_ROWS``): narrow it, export in parts."""


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


def _chunks(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    return "".join(_chunks(header, rows))


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """A download written row by row as it is sent, with a UTF-8 BOM so that spreadsheets
    guess the encoding right. ``rows`` may be a generator reading the database (``streamed``):
    it runs while the response is sent, after the request's own transaction has committed."""

    def body() -> Iterator[bytes]:
        yield "\ufeff".encode()
        for chunk in _chunks(header, rows):
            yield chunk.encode()

    response = Response(stream_with_context(body()), content_type="text/csv; charset=utf-8")
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


def rows_in(stmt: Select) -> int:
    """How many rows ``stmt`` gives: an export is counted before it is sent."""
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def check_export_size(count: int) -> None:
    """Refuse an export of more than ``EXPORT_MAX_ROWS`` rows, saying what to do instead."""
    limit = int(current_app.config["EXPORT_MAX_ROWS"])
    if count > limit:
        raise ExportTooLarge(
            f"This export would have {count:,} rows; one file holds at most {limit:,}. "
            "Narrow the list (by dates or region, for example) and export it in parts."
        )


def streamed(stmt: Select) -> ScalarResult[Any]:
    """The records of ``stmt``, fetched from the database ``BATCH_ROWS`` at a time."""
    return db.session.scalars(stmt.execution_options(yield_per=BATCH_ROWS))
