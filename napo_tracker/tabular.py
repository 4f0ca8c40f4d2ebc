"""Reading an uploaded table, CSV or XLSX, row by row, for every importer (evidence figures,
members): the same limits, the same refusals, the same row numbers.

A CSV is read in chunks and parsed row by row, so memory stays flat whatever its size; an
XLSX (one sheet, values rather than formulas, no merged cells) is turned into the same rows.
What a file's rows mean, and whether they land, is each importer's business; this module
says only what the file holds, line by line (``TableReport`` collects the bad rows).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

from .kernel.errors import DomainError

MAX_LINE_BYTES = 1024 * 1024  # one physical line; a longer one is not a table we read
MAX_FIELD_CHARS = 128 * 1024
MAX_REPORTED_ERRORS = 1000  # the rest are counted, not kept: memory stays flat
CHUNK_BYTES = 64 * 1024

csv.field_size_limit(MAX_FIELD_CHARS)

# The characters forms.PlainText refuses (control characters, text-direction overrides), as one
# regular expression: a per-character check is the slowest part of a large import.
_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f"
FORBIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
FORBIDDEN_MULTILINE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")


class FatalImportError(DomainError):
    """The file cannot be read on: the message says where and why.

    Raised and caught inside an importer, which puts it in its report as ``fatal``.
    """


@dataclass
class RowError:
    line: int
    reason: str


@dataclass
class TableReport:
    """What an import found: the bad rows by number (the first ``MAX_REPORTED_ERRORS``), or
    why the file could not be read at all."""

    filename: str = ""
    is_dry_run: bool = False
    rows_read: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_not_listed: int = 0
    fatal: str | None = None
    sha256: str = ""
    # "line" for a CSV, "row" for a spreadsheet: how the report numbers the file's rows.
    row_word: str = "line"

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.errors_not_listed

    def add_error(self, line: int, reason: str) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(line, reason))
        else:
            self.errors_not_listed += 1


def clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_problems(row: dict[str, str], multiline: Sequence[str] = ()) -> list[str]:
    """Cells a person did not mean: bytes that are not UTF-8, control characters,
    text-direction overrides (line breaks only in the ``multiline`` columns)."""
    reasons = []
    for name, text in row.items():
        if "\ufffd" in text:
            reasons.append(f"{name} has bytes that are not UTF-8 (mixed encodings?); save the file as 'CSV UTF-8'")
        elif (FORBIDDEN_MULTILINE if name in multiline else FORBIDDEN).search(text):
            reasons.append(f"{name} contains control characters or text-direction overrides")
    return reasons


def too_many_rows(max_rows: int) -> str:
    return (
        f"the file has more than {max_rows:,} rows, the most one import takes. Split it into files of at most "
        f"{max_rows:,} rows, each starting with the header line, and import them one after another "
        "(each file lands whole or not at all)."
    )


class Hashing:
    """Reads a stream through SHA-256, so an import records the file's digest as it was read."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()
        self.buffered = b""

    def peek(self, size: int) -> bytes:
        while len(self.buffered) < size:
            chunk = self.stream.read(size - len(self.buffered))
            if not chunk:
                break
            self.buffered += chunk
        return self.buffered[:size]

    def is_workbook(self) -> bool:
        """An XLSX is a ZIP with a workbook inside, whatever the file's name says."""
        return self.peek(4) == b"PK\x03\x04"

    def read(self, size: int = -1) -> bytes:
        if self.buffered:
            head, self.buffered = self.buffered, b""
            if size < 0:
                data = head + self.stream.read()
            elif len(head) >= size:
                data, self.buffered = head[:size], head[size:]
                self.digest.update(data)
                return data
            else:
                data = head + self.stream.read(size - len(head))
        else:
            data = self.stream.read(size)
        self.digest.update(data)
        return data

    def read_rest(self) -> None:
        while self.read(CHUNK_BYTES):
            pass

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def lines(stream: IO[bytes], progress: Callable[[int], None] | None, what: str = "a CSV we read") -> Iterator[str]:
    """Decoded physical lines, read in chunks; refuses a line longer than MAX_LINE_BYTES.

    Bytes that are not UTF-8 become U+FFFD, which the row check reports (mixed encodings).
    """
    buffer = b""
    line_no = 0
    first = True
    while True:
        chunk = stream.read(CHUNK_BYTES)
        if progress and chunk:
            progress(len(chunk))
        if first and chunk:
            if chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise FatalImportError("the file is in UTF-16; save it as 'CSV UTF-8' and try again.")
            if chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[len(codecs.BOM_UTF8) :]
            first = False
        if not chunk:
            break
        buffer += chunk
        start = 0
        while (end := buffer.find(b"\n", start)) != -1:
            line_no += 1
            if end - start > MAX_LINE_BYTES:
                raise FatalImportError(
                    f"line {line_no} is longer than {MAX_LINE_BYTES // 1024:,} KB; this is not {what}."
                )
            yield buffer[start : end + 1].decode("utf-8", "replace")
            start = end + 1
        buffer = buffer[start:]
        if len(buffer) > MAX_LINE_BYTES:
            raise FatalImportError(
                f"line {line_no + 1} is longer than {MAX_LINE_BYTES // 1024:,} KB; this is not {what}."
            )
    if buffer:
        yield buffer.decode("utf-8", "replace")


def csv_rows(
    stream: IO[bytes], progress: Callable[[int], None] | None = None, what: str = "a CSV we read"
) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each row of a CSV, the header first; a row the CSV reader
    cannot parse ends the file with the line and the reason."""
    reader = csv.reader(lines(stream, progress, what), strict=True)
    while True:
        start_line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            message = str(error)
            if "field larger" in message:
                message = f"a field is longer than {MAX_FIELD_CHARS // 1024} KB"
            elif "EOF" in message or "end of data" in message:
                message = "a quoted field is never closed"
            raise FatalImportError(f"line {reader.line_num}: {message}; the file could not be read on.") from None
        yield start_line, cells


def check_header(header: list[str] | None, expected: Sequence[str]) -> list[str]:
    """The header's column names, lower-cased; the file is refused unless they are exactly
    ``expected``, in any order."""
    if header is None:
        raise FatalImportError("the file is empty.")
    columns = [name.strip().lower() for name in header]
    if len(columns) > 50:
        raise FatalImportError(f"the header has {len(columns):,} columns; it must be: {','.join(expected)}.")
    missing = [name for name in expected if name not in columns]
    unexpected = [clip(name, 30) for name in columns if name not in expected]
    if missing or unexpected or len(set(columns)) != len(columns):
        problem = []
        if missing:
            problem.append("missing " + ", ".join(missing))
        if unexpected:
            problem.append("unexpected " + ", ".join(unexpected))
        if len(set(columns)) != len(columns):
            problem.append("a column appears twice")
        raise FatalImportError(f"line 1 must be the header {','.join(expected)} ({'; '.join(problem)}).")
    return columns


class CellProblem(ValueError):
    """A cell an importer cannot take as it is (said with the row)."""


# An importer's reading of one cell of a named column: its text, or CellProblem.
CellReader = Callable[[str, Any], str]


def cell_text(name: str, cell: Any) -> str:
    """A cell as the text a CSV would hold."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_rows(
    stream: Hashing, report: TableReport, expected: Sequence[str], read_cell: CellReader = cell_text
) -> Iterator[tuple[int, list[str]]]:
    """The sheet's rows as text cells, the checked header first, refusing what a spreadsheet
    can hide: formulas, merged cells, several sheets (each said with its row). ``read_cell``
    reads the columns that need more than their text (dates kept as dates, say)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    data = io.BytesIO(stream.read())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
            workbook = load_workbook(data, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as error:
        raise FatalImportError(f"the file is not a workbook openpyxl can read ({type(error).__name__}).") from None
    try:
        sheets = workbook.worksheets
        if len(sheets) != 1:
            names = ", ".join(repr(sheet.title) for sheet in sheets[:5])
            raise FatalImportError(
                f"the workbook has {len(sheets)} sheets ({names}); keep the rows on one sheet and remove the others."
            )
        sheet = sheets[0]
        for merged in sorted(sheet.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
            report.add_error(
                merged.min_row, f"cells {merged.coord} are merged; unmerge them so each cell holds one value"
            )
        if sheet.merged_cells.ranges:
            raise FatalImportError(
                "the sheet has merged cells (listed by row); unmerge them and import the file again."
            )
        rows = sheet.iter_rows()
        header_cells = next(rows, None)
        header = [cell_text("header", cell) for cell in header_cells] if header_cells else None
        columns = check_header(_trim(header) if header is not None else None, expected)
        yield 1, columns
        for row in rows:
            cells = list(row)[: len(columns)] + [None] * max(0, len(columns) - len(row))
            line = row[0].row if row else 0
            texts: list[str] = []
            problems = []
            for index, cell in enumerate(cells):
                name = columns[index]
                if cell is None or cell.value is None:
                    texts.append("")
                    continue
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("=")):
                    problems.append(f"{name} holds a formula ({clip(str(cell.value), 30)}); paste its value instead")
                    texts.append("")
                    continue
                try:
                    texts.append(read_cell(name, cell))
                except CellProblem as problem:
                    problems.append(str(problem))
                    texts.append("")
            for extra in list(row)[len(columns) :]:
                if extra.value not in (None, ""):
                    problems.append(f"has a value beyond the {len(columns)} columns of the header ({extra.coordinate})")
                    break
            if problems:
                report.rows_read += 1
                report.add_error(line, "; ".join(problems))
                continue
            yield line, texts
    finally:
        workbook.close()


def _trim(header: list[str]) -> list[str]:
    while header and not header[-1].strip():
        header.pop()
    return header
