"""The one evidence validator, shared by `flask evidence import` and the web upload, for CSV
and XLSX files alike.

A CSV is read in chunks and parsed row by row: memory stays flat whatever its size. An
XLSX (one sheet, values rather than formulas, no merged cells, dates as dates) is turned
into the same rows and checked by the same rules. Valid rows are inserted in batches inside
a savepoint; if any row is bad, or on a dry run, the savepoint is rolled back, so an import
lands whole or not at all. Every bad row is reported with its line (row) number and the reason.

Every import that lands is an ``ImportBatch`` (who, when, file name, SHA-256, rows), with the
visibility, verification and source chosen for the whole file.
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
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any, cast

from flask import current_app
from sqlalchemy import Table, func, insert, select
from sqlalchemy.exc import IntegrityError

from ..audit.models import AuditAction, record
from ..extensions import db
from ..kernel.clock import today, utcnow
from ..kernel.errors import DomainError
from ..kernel.numbers import places_of
from ..kernel.vocabulary import Grade
from ..references import ReferenceCollision, insert_with_reference, next_numbered_reference
from ..regions.models import Region, Unit
from ..regions.scoping import region_ids_for
from .models import EvidenceItem, ImportBatch, Metric, SourceType, Visibility
from .services import fingerprint, format_reference, next_reference_number, parse_value

if TYPE_CHECKING:
    from ..accounts.models import User

HEADER = ("region", "unit", "metric", "value", "as_of", "grade", "source", "source_ref", "statement")
MAX_LINE_BYTES = 1024 * 1024  # one physical line; a longer one is not an evidence CSV
MAX_FIELD_CHARS = 128 * 1024
MAX_REPORTED_ERRORS = 1000  # the rest are counted, not kept: memory stays flat
BATCH_SIZE = 2000
CHUNK_BYTES = 64 * 1024
MAX_STATEMENT = 5000
MAX_SOURCE_REF = 300

csv.field_size_limit(MAX_FIELD_CHARS)

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_UK = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_MIDNIGHT = re.compile(r"\s+00:00(:00(\.0+)?)?$")
_SERIAL = re.compile(r"^\d{4,6}(\.\d+)?$")
# The characters forms.PlainText refuses (control characters, text-direction overrides), as one
# regular expression: a per-character check is the slowest part of a large import.
_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f"
_FORBIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_FORBIDDEN_MULTILINE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")


class FatalImportError(DomainError):
    """The file cannot be read on: the message says where and why.

    Raised and caught inside the importer, which puts it in the report as ``fatal``.
    """


@dataclass
class RowError:
    line: int
    reason: str


@dataclass
class ImportOptions:
    """Chosen for the whole file, on the form or as command-line flags.

    ``source_type`` fills rows whose source cell is empty; ``is_verified`` marks every item
    verified by the importing official at once (officials and the command line only).
    """

    visibility: str = Visibility.INTERNAL.value
    is_verified: bool = False
    source_type: str | None = None
    source_publisher: str = ""


@dataclass
class ImportReport:
    filename: str = ""
    is_dry_run: bool = False
    rows_read: int = 0
    added: int = 0
    duplicates_of_existing: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_not_listed: int = 0
    fatal: str | None = None
    first_reference: str | None = None
    last_reference: str | None = None
    batch_reference: str | None = None
    sha256: str = ""
    # "line" for a CSV, "row" for a spreadsheet: how the report numbers the file's rows.
    row_word: str = "line"

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.errors_not_listed

    @property
    def is_already_imported(self) -> bool:
        """Every row is already in the tracker: a re-import, which adds nothing."""
        return (
            self.fatal is None
            and self.rows_read > 0
            and self.duplicates_of_existing == self.rows_read == self.error_count
        )

    @property
    def is_ok(self) -> bool:
        return self.fatal is None and (self.error_count == 0 or self.is_already_imported) and self.rows_read > 0

    def add_error(self, line: int, reason: str) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(line, reason))
        else:
            self.errors_not_listed += 1

    def summary(self) -> str:
        if self.fatal:
            return f"Nothing imported: {self.fatal}"
        if self.rows_read == 0:
            return "Nothing imported: the file has a header but no rows."
        if self.is_already_imported:
            return (
                f"Nothing added: all {self.rows_read:,} rows are already in the tracker "
                "(this file was imported before)."
            )
        if self.error_count:
            return (
                f"Nothing imported: {self.error_count:,} of {self.rows_read:,} rows have problems. "
                "Fix them and import the whole file again."
            )
        if self.is_dry_run:
            return f"Checked {self.rows_read:,} rows: all are fine. Nothing was written (dry run)."
        return (
            f"Imported {self.added:,} items ({self.first_reference} to {self.last_reference}) "
            f"as {self.batch_reference}."
        )


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _lines(stream: IO[bytes], progress: Callable[[int], None] | None) -> Iterator[str]:
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
                    f"line {line_no} is longer than {MAX_LINE_BYTES // 1024:,} KB; this is not an evidence CSV."
                )
            yield buffer[start : end + 1].decode("utf-8", "replace")
            start = end + 1
        buffer = buffer[start:]
        if len(buffer) > MAX_LINE_BYTES:
            raise FatalImportError(
                f"line {line_no + 1} is longer than {MAX_LINE_BYTES // 1024:,} KB; this is not an evidence CSV."
            )
    if buffer:
        yield buffer.decode("utf-8", "replace")


def parse_date(text: str) -> date:
    """YYYY-MM-DD or DD/MM/YYYY (a spreadsheet's midnight time is ignored)."""
    text = _MIDNIGHT.sub("", text.strip())
    if not text:
        raise ValueError("as_of is empty: give the date the figure describes")
    match = _ISO.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    elif match := _UK.match(text):
        day, month, year = (int(g) for g in match.groups())
    elif _SERIAL.match(text):
        raise ValueError(
            f"as_of {text!r} looks like a spreadsheet date number; format the column as a "
            "date (YYYY-MM-DD or DD/MM/YYYY)"
        )
    else:
        raise ValueError(f"as_of {_clip(text)!r} is not a date in the form YYYY-MM-DD or DD/MM/YYYY")
    try:
        found = date(year, month, day)
    except ValueError:
        raise ValueError(f"as_of {text!r} is not a real date") from None
    if found > today():
        raise ValueError(f"as_of {text!r} is in the future")
    if found.year < 1990:
        raise ValueError(f"as_of {text!r} is before 1990; check the year")
    return found


class _Lookups:
    """Regions, units, metrics, grades and sources by lower-cased name or code."""

    def __init__(self, actor: User | None) -> None:
        self.regions = {name.lower(): rid for rid, name in db.session.execute(select(Region.id, Region.name))}
        self.units: dict[tuple[int, str], int] = {}
        self.unit_regions: dict[str, set[int]] = {}
        for uid, rid, name in db.session.execute(select(Unit.id, Unit.region_id, Unit.name)):
            self.units[(rid, name.lower())] = uid
            self.unit_regions.setdefault(name.lower(), set()).add(rid)
        self.metrics: dict[str, int] = {}
        for mid, code, label in db.session.execute(select(Metric.id, Metric.code, Metric.label)):
            self.metrics[code.lower()] = mid
            self.metrics[label.lower()] = mid
        self.grades = {grade.value.lower(): grade.value for grade in Grade} | {
            grade.label.lower(): grade.value for grade in Grade
        }
        self.sources: dict[str, str] = {}
        for source in SourceType:
            self.sources[source.value] = source.value
            self.sources[source.value.replace("_", " ")] = source.value
            self.sources[source.label.lower()] = source.value
        # The CLI runs with no actor: whoever has the server's shell may import anything.
        self.allowed_regions = None if actor is None else region_ids_for(actor)
        self.may_record_national = actor is None or actor.sees_all_regions
        self.default_source = ""


def _row_to_item(row: dict[str, str], lookups: _Lookups) -> tuple[dict[str, Any] | None, list[str]]:
    reasons: list[str] = []
    for name, text in row.items():
        if "\ufffd" in text:
            reasons.append(f"{name} has bytes that are not UTF-8 (mixed encodings?); save the file as 'CSV UTF-8'")
        elif (_FORBIDDEN_MULTILINE if name == "statement" else _FORBIDDEN).search(text):
            reasons.append(f"{name} contains control characters or text-direction overrides")
    if reasons:
        return None, reasons
    region_text, unit_text = row["region"].strip(), row["unit"].strip()
    region_id = unit_id = metric_id = value = grade = None
    if region_text:
        region_id = lookups.regions.get(region_text.lower())
        if region_id is None:
            reasons.append(f"unknown region {_clip(region_text)!r}")
        elif lookups.allowed_regions is not None and region_id not in lookups.allowed_regions:
            reasons.append(f"{region_text} is not one of your regions")
    elif not lookups.may_record_national:
        reasons.append("region is empty (a national figure); only national officials import those")
    if unit_text:
        if not region_text:
            reasons.append(f"unit {_clip(unit_text)!r} needs its region")
        elif region_id is not None:
            unit_id = lookups.units.get((region_id, unit_text.lower()))
            if unit_id is None:
                reasons.append(
                    f"unit {_clip(unit_text)!r} is not in {region_text}"
                    if unit_text.lower() in lookups.unit_regions
                    else f"unknown unit {_clip(unit_text)!r}"
                )
    metric_text, value_text = row["metric"].strip(), row["value"].strip()
    if metric_text:
        metric_id = lookups.metrics.get(metric_text.lower())
        if metric_id is None:
            reasons.append(f"unknown metric {_clip(metric_text)!r}")
    if value_text:
        try:
            value = parse_value(value_text)
        except ValueError as error:
            reasons.append(f"value {error}")
        if not metric_text:
            reasons.append("a value needs a metric")
    statement = row["statement"].strip()
    if not value_text and not statement:
        reasons.append("give a value, a statement, or both")
    if len(statement) > MAX_STATEMENT:
        reasons.append(f"statement is longer than {MAX_STATEMENT:,} characters")
    try:
        as_of = parse_date(row["as_of"])
    except ValueError as error:
        reasons.append(str(error))
        as_of = None
    grade_text = row["grade"].strip()
    if grade_text:
        grade = lookups.grades.get(grade_text.lower())
        if grade is None:
            reasons.append(
                f"unknown grade {_clip(grade_text)!r} (use PO, PSO, PQiP, NQO, SPO, admin, court or family_court)"
            )
    source_text = row["source"].strip() or lookups.default_source
    source = lookups.sources.get(source_text.lower().replace("_", " ")) or lookups.sources.get(source_text.lower())
    if not source_text:
        reasons.append("source is empty: say where the figure comes from (or choose one for the whole file)")
    elif source is None:
        reasons.append(f"unknown source {_clip(source_text)!r}")
    source_ref = row["source_ref"].strip()
    if len(source_ref) > MAX_SOURCE_REF:
        reasons.append(f"source_ref is longer than {MAX_SOURCE_REF} characters")
    if reasons:
        return None, reasons
    return {
        "region_id": region_id,
        "unit_id": unit_id,
        "metric_id": metric_id,
        "value": value,
        "statement": statement or None,
        "as_of": as_of,
        "grade": grade,
        "source_type": source,
        "source_title": source_ref,
    }, []


class _Importer:
    def __init__(self, actor: User | None, report: ImportReport, options: ImportOptions, batch_id: int) -> None:
        self.actor = actor
        self.report = report
        self.options = options
        self.batch_id = batch_id
        self.batch: list[tuple[int, dict]] = []
        self.max_id_at_start = db.session.scalar(select(func.max(EvidenceItem.id))) or 0
        self.now = utcnow()
        actor_id = actor.id if actor is not None else None
        self.verified = (
            {"is_verified": True, "verified_by_id": actor_id, "verified_at": self.now}
            if options.is_verified
            else {"is_verified": False}
        )

    def add(self, line: int, values: dict) -> None:
        values["fingerprint"] = fingerprint(
            **{
                k: values[k]
                for k in (
                    "region_id",
                    "unit_id",
                    "metric_id",
                    "value",
                    "as_of",
                    "grade",
                    "source_type",
                    "source_title",
                    "statement",
                )
            }
        )
        self.batch.append((line, values))
        if len(self.batch) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        """Refuse rows already stored (this import's earlier batches included), insert the rest."""
        if not self.batch:
            return
        fps = [values["fingerprint"] for _, values in self.batch]
        existing = dict(
            db.session.execute(
                select(EvidenceItem.fingerprint, EvidenceItem.id).where(EvidenceItem.fingerprint.in_(fps))
            ).all()
        )
        seen: dict[str, int] = {}
        rows = []
        for line, values in self.batch:
            fp = values["fingerprint"]
            if fp in seen:
                self.report.add_error(line, f"duplicate of line {seen[fp]} in this file")
            elif fp in existing and existing[fp] <= self.max_id_at_start:
                self.report.duplicates_of_existing += 1
                self.report.add_error(line, "duplicate of an item already in the tracker")
            elif fp in existing:
                self.report.add_error(line, "duplicate of an earlier line in this file")
            else:
                seen[fp] = line
                rows.append(
                    {
                        **values,
                        "created_by_id": self.actor.id if self.actor is not None else None,
                        "created_at": self.now,
                        "visibility": self.options.visibility,
                        **self.verified,
                        "source_publisher": self.options.source_publisher,
                        "source_url": "",
                        "version": 1,
                        "import_batch_id": self.batch_id,
                        "value_places": places_of(values["value"]) if values["value"] is not None else None,
                    }
                )
        if rows:
            references = insert_with_reference(
                EvidenceItem.reference, lambda: _next_references(len(rows)), lambda refs: _insert(rows, refs)
            )
            self.report.first_reference = self.report.first_reference or references[0]
            self.report.last_reference = references[-1]
            self.report.added += len(rows)
        self.batch = []


def _next_references(count: int) -> list[str]:
    """The next ``count`` evidence references, after the newest one (this import's own included)."""
    first = next_reference_number()
    return [format_reference(number) for number in range(first, first + count)]


def _insert(rows: list[dict[str, Any]], references: Sequence[str]) -> list[str]:
    # Core INSERT of many rows at once: the ORM's per-object work is the slow part of a large import.
    db.session.execute(
        insert(cast(Table, EvidenceItem.__table__)),
        [{**row, "reference": reference} for row, reference in zip(rows, references, strict=True)],
    )
    return list(references)


def import_csv(
    actor: User | None,
    stream: IO[bytes],
    *,
    filename: str = "",
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    options: ImportOptions | None = None,
) -> ImportReport:
    """Validate every row of an evidence CSV or XLSX and import it whole, as one batch, or nothing.

    The rows go in inside a savepoint of their own: a bad row anywhere, a dry run or an
    unreadable file rolls it back here, so nothing of the file is left for the caller's
    commit. ``actor`` None is the command line (whoever holds the server's shell). The
    transaction boundary commits what stays (the batch, its rows and the audit entry).
    A file is read as XLSX when it is one (a ZIP with a workbook inside), whatever its name.
    """
    options = options or ImportOptions()
    report = ImportReport(filename=filename, is_dry_run=dry_run)
    check_options(actor, options)
    hashing = _Hashing(stream)
    savepoint = db.session.begin_nested()
    try:
        batch = _new_batch(actor, filename, options)
        if hashing.peek(4) == b"PK\x03\x04":
            report.row_word = "row"
            _run_rows(actor, _xlsx_rows(hashing, report), report, options, batch.id)
        else:
            _run_csv(actor, cast(IO[bytes], hashing), report, progress, options, batch.id)
        hashing.read_rest()
        report.sha256 = hashing.hexdigest()
    except (FatalImportError, ReferenceCollision) as error:
        report.fatal = error.message
    except IntegrityError:
        # Someone else saved one of the file's figures at the same moment (references are retried).
        report.fatal = "another change to the evidence was saved at the same moment; please import again."
    except BaseException:
        # Anything else (a lost connection, a bug): none of the file stays, whatever the caller does next.
        savepoint.rollback()
        raise
    if dry_run or not report.is_ok or report.added == 0:
        savepoint.rollback()
        if dry_run and report.fatal is None:
            report.added = 0
        return report
    batch.sha256 = report.sha256
    batch.row_count = report.added
    batch.first_reference, batch.last_reference = report.first_reference, report.last_reference
    db.session.flush()
    savepoint.commit()
    report.batch_reference = batch.reference
    record(
        actor,
        AuditAction.EVIDENCE_IMPORTED,
        ("import_batches", batch.reference),
        file=filename[:120] or None,
        added=report.added,
        first=report.first_reference,
        last=report.last_reference,
        sha256=report.sha256,
        visibility=options.visibility,
        verified=options.is_verified,
    )
    return report


def check_options(actor: User | None, options: ImportOptions) -> None:
    if not Visibility.has_value(options.visibility):
        raise ImportRefused("Choose internal or public for the whole file.", "visibility")
    if options.source_type is not None and not SourceType.has_value(options.source_type):
        raise ImportRefused("Choose a source from the list.", "source_type")
    if options.is_verified and actor is not None and not actor.sees_all_regions:
        raise ImportRefused("Only national officials verify evidence.", "is_verified")


class ImportRefused(DomainError):
    """The options chosen for the whole file break a rule (the file is not read)."""


def _new_batch(actor: User | None, filename: str, options: ImportOptions) -> ImportBatch:
    """The batch the file's rows belong to, under the next free ``IMP-nnnn``."""
    return insert_with_reference(
        ImportBatch.reference,
        lambda: next_numbered_reference(ImportBatch.reference, "IMP-"),
        lambda reference: ImportBatch(
            reference=reference,
            filename=filename[:200],
            sha256="",
            visibility=options.visibility,
            source_type=options.source_type,
            is_verified=options.is_verified,
            created_by_id=actor.id if actor is not None else None,
            verified_by_id=actor.id if actor is not None and options.is_verified else None,
            verified_at=utcnow() if options.is_verified else None,
        ),
    )


class _Hashing:
    """Reads a stream through SHA-256, so the batch records the file's digest as it was read."""

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


def _check_header(header: list[str] | None) -> list[str]:
    if header is None:
        raise FatalImportError("the file is empty.")
    columns = [name.strip().lower() for name in header]
    if len(columns) > 50:
        raise FatalImportError(f"the header has {len(columns):,} columns; it must be: {','.join(HEADER)}.")
    missing = [name for name in HEADER if name not in columns]
    unexpected = [_clip(name, 30) for name in columns if name not in HEADER]
    if missing or unexpected or len(set(columns)) != len(columns):
        problem = []
        if missing:
            problem.append("missing " + ", ".join(missing))
        if unexpected:
            problem.append("unexpected " + ", ".join(unexpected))
        if len(set(columns)) != len(columns):
            problem.append("a column appears twice")
        raise FatalImportError(f"line 1 must be the header {','.join(HEADER)} ({'; '.join(problem)}).")
    return columns


def too_many_rows(max_rows: int) -> str:
    return (
        f"the file has more than {max_rows:,} rows, the most one import takes. Split it into files of at most "
        f"{max_rows:,} rows, each starting with the header line, and import them one after another "
        "(each file lands whole or not at all)."
    )


def _run_rows(
    actor: User | None,
    rows: Iterator[tuple[int, list[str]]],
    report: ImportReport,
    options: ImportOptions,
    batch_id: int,
    columns: list[str] | None = None,
) -> None:
    """Check every row (line number, cells) after the header and add the good ones."""
    if columns is None:
        first = next(rows, None)
        columns = _check_header(first[1] if first else None)
    lookups = _Lookups(actor)
    lookups.default_source = SourceType.label_of(options.source_type) if options.source_type else ""
    importer = _Importer(actor, report, options, batch_id)
    max_rows = int(current_app.config["IMPORT_MAX_ROWS"])
    for line, cells in rows:
        if not cells or all(not c.strip() for c in cells):
            continue  # blank lines are allowed
        report.rows_read += 1
        if report.rows_read > max_rows:
            raise FatalImportError(too_many_rows(max_rows))
        if len(cells) != len(columns):
            report.add_error(line, f"has {len(cells):,} columns; expected {len(columns)}")
            continue
        values, reasons = _row_to_item(dict(zip(columns, cells, strict=True)), lookups)
        if values is None:
            report.add_error(line, "; ".join(reasons))
        else:
            importer.add(line, values)
    importer.flush()


# ---------------------------------------------------------------------------------------
# XLSX: the same rows, from the one sheet of a workbook

_FIXED_PLACES = re.compile(r"^[#,]*0(?:\.(0+))?$")


def _xlsx_rows(stream: _Hashing, report: ImportReport) -> Iterator[tuple[int, list[str]]]:
    """The sheet's rows as text cells, refusing what a spreadsheet can hide: formulas, merged
    cells, several sheets and dates typed as text (each said with its row)."""
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
                f"the workbook has {len(sheets)} sheets ({names}); keep the figures on one sheet and remove the others."
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
        header = [_cell_text(cell, "header") for cell in header_cells] if header_cells else None
        columns = _check_header(_trim(header) if header is not None else None)
        yield 1, columns
        as_of_index = columns.index("as_of")
        value_index = columns.index("value")
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
                    problems.append(f"{name} holds a formula ({_clip(str(cell.value), 30)}); paste its value instead")
                    texts.append("")
                    continue
                if index == as_of_index:
                    if isinstance(cell.value, str):
                        problems.append(f"as_of {_clip(cell.value)!r} is text, not a date; format the column as dates")
                        texts.append("")
                        continue
                    if not isinstance(cell.value, (datetime, date)):
                        problems.append(f"as_of {cell.value!r} is not a date; format the column as dates")
                        texts.append("")
                        continue
                    texts.append(
                        cell.value.date().isoformat() if isinstance(cell.value, datetime) else cell.value.isoformat()
                    )
                    continue
                if index == value_index and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    texts.append(_number_as_given(cell.value, cell.number_format))
                    continue
                texts.append(_cell_text(cell, name))
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


def _cell_text(cell: Any, name: str) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number_as_given(value: int | float, number_format: str) -> str:
    """A spreadsheet keeps 14.20 as the number 14.2 shown with two places: the places come
    from the cell's format when it fixes them ("0.00"), so the value is kept as shown."""
    exact = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    match = _FIXED_PLACES.match(number_format or "")
    if match:
        places = len(match.group(1) or "")
        exact = exact.quantize(Decimal(1).scaleb(-places))
    return f"{exact:f}"


def _run_csv(
    actor: User | None,
    stream: IO[bytes],
    report: ImportReport,
    progress: Callable[[int], None] | None,
    options: ImportOptions,
    batch_id: int,
) -> None:
    reader = csv.reader(_lines(stream, progress), strict=True)

    def rows() -> Iterator[tuple[int, list[str]]]:
        while True:
            start_line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            yield start_line, cells

    try:
        _run_rows(actor, rows(), report, options, batch_id)
    except csv.Error as error:
        message = str(error)
        if "field larger" in message:
            message = f"a field is longer than {MAX_FIELD_CHARS // 1024} KB"
        elif "EOF" in message or "end of data" in message:
            message = "a quoted field is never closed"
        raise FatalImportError(f"line {reader.line_num}: {message}; the file could not be read on.") from None
