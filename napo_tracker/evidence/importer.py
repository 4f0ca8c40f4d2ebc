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

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
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
from ..tabular import (
    MAX_LINE_BYTES,
    CellProblem,
    FatalImportError,
    Hashing,
    RowError,
    TableReport,
    cell_text,
    check_header,
    clip,
    csv_rows,
    text_problems,
    too_many_rows,
    xlsx_rows,
)
from .models import EvidenceItem, ImportBatch, Metric, SourceType, Visibility
from .services import fingerprint, format_reference, next_reference_number, parse_value

if TYPE_CHECKING:
    from ..accounts.models import User

HEADER = ("region", "unit", "metric", "value", "as_of", "grade", "source", "source_ref", "statement")
BATCH_SIZE = 2000
MAX_STATEMENT = 5000
MAX_SOURCE_REF = 300

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_UK = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_MIDNIGHT = re.compile(r"\s+00:00(:00(\.0+)?)?$")
_SERIAL = re.compile(r"^\d{4,6}(\.\d+)?$")
# Kept importable from here: the reading of tables is shared (``tabular.py``).
__all__ = ["HEADER", "MAX_LINE_BYTES", "FatalImportError", "ImportOptions", "ImportRefused", "ImportReport", "RowError"]


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
class ImportReport(TableReport):
    added: int = 0
    duplicates_of_existing: int = 0
    first_reference: str | None = None
    last_reference: str | None = None
    batch_reference: str | None = None

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
        raise ValueError(f"as_of {clip(text)!r} is not a date in the form YYYY-MM-DD or DD/MM/YYYY")
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
    """Regions, units, metrics, grades and sources by lower-cased name or code; the source
    of a row that names none (``default_source``, chosen for the whole file, or empty)."""

    def __init__(self, actor: User | None, default_source: str) -> None:
        self.regions = {name.lower(): rid for rid, name in db.session.execute(select(Region.id, Region.name))}
        self.units: dict[tuple[int, str], int] = {}
        self.unit_names: set[str] = set()  # of every region: "not in London" rather than "unknown"
        for uid, rid, name in db.session.execute(select(Unit.id, Unit.region_id, Unit.name)):
            self.units[(rid, name.lower())] = uid
            self.unit_names.add(name.lower())
        self.metrics: dict[str, int] = {}
        for mid, code, label in db.session.execute(select(Metric.id, Metric.code, Metric.label)):
            self.metrics[code.lower()] = mid
            self.metrics[label.lower()] = mid
        self.grades = {grade.value.lower(): grade.value for grade in Grade} | {
            grade.label.lower(): grade.value for grade in Grade
        }
        self.sources: dict[str, str] = {}
        for source in SourceType:
            # Each label is its code with spaces ("rep_survey", "Rep survey"): both are taken.
            self.sources[source.value] = source.value
            self.sources[source.label.lower()] = source.value
        # The CLI runs with no actor: whoever has the server's shell may import anything.
        self.allowed_regions = None if actor is None else region_ids_for(actor)
        self.may_record_national = actor is None or actor.sees_all_regions
        self.default_source = default_source


def _row_to_item(row: dict[str, str], lookups: _Lookups) -> tuple[dict[str, Any] | None, list[str]]:
    reasons = text_problems(row, multiline=("statement",))
    if reasons:
        return None, reasons
    region_text, unit_text = row["region"].strip(), row["unit"].strip()
    region_id = unit_id = metric_id = value = grade = None
    if region_text:
        region_id = lookups.regions.get(region_text.lower())
        if region_id is None:
            reasons.append(f"unknown region {clip(region_text)!r}")
        elif lookups.allowed_regions is not None and region_id not in lookups.allowed_regions:
            reasons.append(f"{region_text} is not one of your regions")
    elif not lookups.may_record_national:
        reasons.append("region is empty (a national figure); only national officials import those")
    if unit_text:
        if not region_text:
            reasons.append(f"unit {clip(unit_text)!r} needs its region")
        elif region_id is not None:
            unit_id = lookups.units.get((region_id, unit_text.lower()))
            if unit_id is None:
                reasons.append(
                    f"unit {clip(unit_text)!r} is not in {region_text}"
                    if unit_text.lower() in lookups.unit_names
                    else f"unknown unit {clip(unit_text)!r}"
                )
    metric_text, value_text = row["metric"].strip(), row["value"].strip()
    if metric_text:
        metric_id = lookups.metrics.get(metric_text.lower())
        if metric_id is None:
            reasons.append(f"unknown metric {clip(metric_text)!r}")
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
                f"unknown grade {clip(grade_text)!r} (use PO, PSO, PQiP, NQO, SPO, admin, court or family_court)"
            )
    source_text = row["source"].strip() or lookups.default_source
    source = lookups.sources.get(source_text.lower())
    if not source_text:
        reasons.append("source is empty: say where the figure comes from (or choose one for the whole file)")
    elif source is None:
        reasons.append(f"unknown source {clip(source_text)!r}")
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
        # Unverified items take the columns' defaults (not verified, by no one).
        self.verified = (
            {"is_verified": True, "verified_by_id": actor_id, "verified_at": self.now} if options.is_verified else {}
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
    hashing = Hashing(stream)
    savepoint = db.session.begin_nested()
    try:
        batch = _new_batch(actor, filename, options)
        if hashing.is_workbook():
            report.row_word = "row"
            _run_rows(actor, xlsx_rows(hashing, report, HEADER, _read_cell), report, options, batch.id)
        else:
            rows = csv_rows(cast(IO[bytes], hashing), progress, "an evidence CSV")
            _run_rows(actor, rows, report, options, batch.id)
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
        report.added = 0  # whatever went in was taken back
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
        columns = check_header(first[1] if first else None, HEADER)
    lookups = _Lookups(actor, SourceType.label_of(options.source_type))  # "" when none was chosen
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


def _read_cell(name: str, cell: Any) -> str:
    """Dates kept as dates, figures as shown; the rest as text (``tabular.xlsx_rows``)."""
    if name == "as_of":
        if isinstance(cell.value, str):
            raise CellProblem(f"as_of {clip(cell.value)!r} is text, not a date; format the column as dates")
        if not isinstance(cell.value, (datetime, date)):
            raise CellProblem(f"as_of {cell.value!r} is not a date; format the column as dates")
        return cell.value.date().isoformat() if isinstance(cell.value, datetime) else cell.value.isoformat()
    if name == "value" and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
        return _number_as_given(cell.value, cell.number_format)
    return cell_text(name, cell)


def _number_as_given(value: int | float, number_format: str) -> str:
    """A spreadsheet keeps 14.20 as the number 14.2 shown with two places: the places come
    from the cell's format when it fixes them ("0.00"), so the value is kept as shown."""
    exact = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    match = _FIXED_PLACES.match(number_format or "")
    if match:
        places = len(match.group(1) or "")
        exact = exact.quantize(Decimal(1).scaleb(-places))
    return f"{exact:f}"
