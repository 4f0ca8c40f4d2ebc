"""The one CSV validator, shared by `flask evidence import` and the web upload.

The file is read in chunks and parsed row by row: memory stays flat whatever its size.
Valid rows are inserted in batches inside a savepoint; if any row is bad, or on a dry run,
the savepoint is rolled back, so an import lands whole or not at all. Every bad row is
reported with its line number and the reason.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import IO, TYPE_CHECKING, Any, cast

from flask import current_app
from sqlalchemy import Table, func, insert, select
from sqlalchemy.exc import IntegrityError

from ..audit.models import AuditAction, record
from ..extensions import db
from ..kernel.clock import today, utcnow
from ..kernel.errors import DomainError
from ..kernel.vocabulary import Grade
from ..references import ReferenceCollision, insert_with_reference
from ..regions.models import Region, Unit
from ..regions.scoping import region_ids_for
from .models import EvidenceItem, Metric, SourceType, Visibility
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
        return f"Imported {self.added:,} items ({self.first_reference} to {self.last_reference})."


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
    source_text = row["source"].strip()
    source = lookups.sources.get(source_text.lower().replace("_", " ")) or lookups.sources.get(source_text.lower())
    if not source_text:
        reasons.append("source is empty: say where the figure comes from")
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
    def __init__(self, actor: User | None, report: ImportReport) -> None:
        self.actor = actor
        self.report = report
        self.batch: list[tuple[int, dict]] = []
        self.max_id_at_start = db.session.scalar(select(func.max(EvidenceItem.id))) or 0
        self.now = utcnow()

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
                        "visibility": Visibility.INTERNAL.value,
                        "is_verified": False,
                        "source_publisher": "",
                        "source_url": "",
                        "version": 1,
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
) -> ImportReport:
    """Validate every row of an evidence CSV and import it whole, or nothing.

    The rows go in inside a savepoint of their own: a bad row anywhere, a dry run or an
    unreadable file rolls it back here, so nothing of the file is left for the caller's
    commit. ``actor`` None is the command line (whoever holds the server's shell). The
    transaction boundary commits what stays (the rows and the audit entry).
    """
    report = ImportReport(filename=filename, is_dry_run=dry_run)
    max_rows = int(current_app.config["IMPORT_MAX_ROWS"])
    savepoint = db.session.begin_nested()
    try:
        _run(actor, stream, report, progress, max_rows)
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
    savepoint.commit()
    record(
        actor,
        AuditAction.EVIDENCE_IMPORTED,
        ("evidence_items", report.first_reference),
        file=filename[:120] or None,
        added=report.added,
        last=report.last_reference,
    )
    return report


def too_many_rows(max_rows: int) -> str:
    return (
        f"the file has more than {max_rows:,} rows, the most one import takes. Split it into files of at most "
        f"{max_rows:,} rows, each starting with the header line, and import them one after another "
        "(each file lands whole or not at all)."
    )


def _run(
    actor: User | None,
    stream: IO[bytes],
    report: ImportReport,
    progress: Callable[[int], None] | None,
    max_rows: int,
) -> None:
    reader = csv.reader(_lines(stream, progress), strict=True)
    try:
        header = next(reader, None)
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
        lookups = _Lookups(actor)
        importer = _Importer(actor, report)
        while True:
            start_line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            line = start_line
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
    except csv.Error as error:
        message = str(error)
        if "field larger" in message:
            message = f"a field is longer than {MAX_FIELD_CHARS // 1024} KB"
        elif "EOF" in message or "end of data" in message:
            message = "a quoted field is never closed"
        raise FatalImportError(f"line {reader.line_num}: {message}; the file could not be read on.") from None
