"""Members in bulk, from a CSV or XLSX file: all of it or none of it, every bad row named by
its number, as the evidence import does (the file is read by the same ``tabular`` module).

A row whose membership number is already recorded (through its keyed hash, under every data
key: ``services.member_with_number``) updates that member; any other row records a new one.
Every row is checked before anything is written: a number given twice in the file, a region
or unit that is not the importer's to write, a member of another region, an erased member,
all refuse the whole file. The rows then go through the same services as the forms
(``create_member``, ``update_member``), inside a savepoint that is rolled back if any is
refused, so nothing of a refused file stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, cast

from flask import current_app
from sqlalchemy import select

from ..audit.models import AuditAction, record
from ..extensions import db
from ..kernel.errors import DomainError
from ..kernel.vocabulary import Grade
from ..regions.models import Region, Unit
from ..regions.scoping import region_ids_for
from ..tabular import (
    FatalImportError,
    Hashing,
    TableReport,
    check_header,
    clip,
    csv_rows,
    text_problems,
    too_many_rows,
    xlsx_rows,
)
from .models import Member
from .services import CaseError, create_member, member_with_number, update_member

if TYPE_CHECKING:
    from ..accounts.models import User

HEADER = ("membership_number", "name", "region", "unit", "grade", "email")
MAX_NUMBER = 40
MAX_NAME = 200
MAX_EMAIL = 254
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class MembersImportRefused(DomainError):
    """Who may import members: reps (their own regions) and admins."""

    status_code = 403


@dataclass
class MembersReport(TableReport):
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def is_ok(self) -> bool:
        return self.fatal is None and self.error_count == 0 and self.rows_read > 0

    def summary(self) -> str:
        if self.fatal:
            return f"Nothing imported: {self.fatal}"
        if self.rows_read == 0:
            return "Nothing imported: the file has a header but no rows."
        if self.error_count:
            return (
                f"Nothing imported: {self.error_count:,} of {self.rows_read:,} rows have problems. "
                "Fix them and import the whole file again."
            )
        counts = f"{self.added:,} new, {self.updated:,} updated, {self.unchanged:,} unchanged"
        if self.is_dry_run:
            return f"Checked {self.rows_read:,} rows: all are fine ({counts}). Nothing was written (dry run)."
        return f"Imported {self.rows_read:,} members: {counts}."


@dataclass
class _Row:
    line: int
    values: dict[str, Any]
    member: Member | None = None
    changes: list[str] = field(default_factory=list)


class _Lookups:
    def __init__(self, actor: User) -> None:
        self.regions = {name.lower(): (rid, name) for rid, name in db.session.execute(select(Region.id, Region.name))}
        self.units = {
            (rid, name.lower()): uid
            for uid, rid, name in db.session.execute(select(Unit.id, Unit.region_id, Unit.name))
        }
        self.grades = {grade.value.lower(): grade.value for grade in Grade} | {
            grade.label.lower(): grade.value for grade in Grade
        }
        self.allowed = region_ids_for(actor)
        self.region_names = {rid: name for rid, name in self.regions.values()}


def _check_row(row: dict[str, str], lookups: _Lookups) -> tuple[dict[str, Any] | None, list[str]]:
    reasons = text_problems(row)
    if reasons:
        return None, reasons
    number, name = row["membership_number"].strip(), row["name"].strip()
    region_text, unit_text = row["region"].strip(), row["unit"].strip()
    grade_text, email = row["grade"].strip(), row["email"].strip().lower()
    region_id = unit_id = grade = None
    if not number:
        reasons.append("membership_number is empty")
    elif len(number) > MAX_NUMBER:
        reasons.append(f"membership_number is longer than {MAX_NUMBER} characters")
    if not name:
        reasons.append("name is empty")
    elif len(name) > MAX_NAME:
        reasons.append(f"name is longer than {MAX_NAME} characters")
    if not region_text:
        reasons.append("region is empty")
    else:
        found = lookups.regions.get(region_text.lower())
        if found is None:
            reasons.append(f"unknown region {clip(region_text)!r}")
        elif lookups.allowed is not None and found[0] not in lookups.allowed:
            reasons.append(f"{found[1]} is not one of your regions")
        else:
            region_id = found[0]
    if unit_text and region_id is not None:
        unit_id = lookups.units.get((region_id, unit_text.lower()))
        if unit_id is None:
            reasons.append(f"unit {clip(unit_text)!r} is not in {lookups.region_names[region_id]}")
    if grade_text:
        grade = lookups.grades.get(grade_text.lower())
        if grade is None:
            reasons.append(
                f"unknown grade {clip(grade_text)!r} (use PO, PSO, PQiP, NQO, SPO, admin, court or family_court)"
            )
    if email and (len(email) > MAX_EMAIL or not EMAIL.match(email)):
        reasons.append(f"email {clip(email)!r} is not an e-mail address")
    if reasons:
        return None, reasons
    return {
        "membership_number": number,
        "name": name,
        "region_id": region_id,
        "unit_id": unit_id,
        "grade": grade,
        "email": email or None,
    }, []


def _match(row: _Row, lookups: _Lookups, report: MembersReport) -> None:
    """The member this row's number already belongs to, if any, and what the row would change."""
    values = row.values
    member = member_with_number(values["membership_number"])
    if member is None:
        report.added += 1
        return
    region = lookups.region_names.get(member.region_id, "another region")
    if lookups.allowed is not None and member.region_id not in lookups.allowed:
        report.add_error(row.line, "this membership number belongs to a member outside your regions")
    elif member.is_erased:
        report.add_error(row.line, "this membership number belongs to an erased member")
    elif member.region_id != values["region_id"]:
        report.add_error(
            row.line, f"this member is recorded in {region}; a member's region is not changed by an import"
        )
    else:
        row.member = member
        fields = ("name", "unit_id", "grade", "email")
        row.changes = [name for name in fields if getattr(member, name) != values[name]]
        if row.changes:
            report.updated += 1
        else:
            report.unchanged += 1


def import_members(actor: User, stream: IO[bytes], *, filename: str = "", dry_run: bool = False) -> MembersReport:
    """Check every row of a members file, then record or update every member it names, or none.

    Reps import into their own regions, admins into any; officials see members by pseudonym
    only and import none. Existing members are matched by membership number (case and spacing
    aside) and keep their region; their phone, which the file does not carry, is kept.
    """
    if not (actor.is_rep or actor.is_admin):
        raise MembersImportRefused("Only reps and admins import members.")
    report = MembersReport(filename=filename, is_dry_run=dry_run)
    hashing = Hashing(stream)
    lookups = _Lookups(actor)
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    max_rows = int(current_app.config["IMPORT_MAX_ROWS"])
    try:
        if hashing.is_workbook():
            report.row_word = "row"
            table = xlsx_rows(hashing, report, HEADER)
        else:
            table = csv_rows(cast(IO[bytes], hashing), None, "a members CSV")
        first = next(table, None)
        columns = check_header(first[1] if first else None, HEADER)
        for line, cells in table:
            if not cells or all(not c.strip() for c in cells):
                continue
            report.rows_read += 1
            if report.rows_read > max_rows:
                raise FatalImportError(too_many_rows(max_rows))
            if len(cells) != len(columns):
                report.add_error(line, f"has {len(cells):,} columns; expected {len(columns)}")
                continue
            values, reasons = _check_row(dict(zip(columns, cells, strict=True)), lookups)
            if values is None:
                report.add_error(line, "; ".join(reasons))
                continue
            key = values["membership_number"].casefold()  # as the keyed hash reads it: case aside
            if key in seen:
                report.add_error(line, f"membership number given twice: also on {report.row_word} {seen[key]}")
                continue
            seen[key] = line
            rows.append(_Row(line, values))
        hashing.read_rest()
        report.sha256 = hashing.hexdigest()
    except FatalImportError as error:
        report.fatal = error.message
    if report.fatal is None:
        for row in rows:
            _match(row, lookups, report)
    if dry_run or not report.is_ok:
        return report
    _write(actor, rows, report)
    return report


def _write(actor: User, rows: list[_Row], report: MembersReport) -> None:
    savepoint = db.session.begin_nested()
    try:
        for row in rows:
            values = row.values
            if row.member is None:
                create_member(actor, phone=None, **values)
            elif row.changes:
                update_member(
                    actor,
                    row.member,
                    unit_id=values["unit_id"],
                    name=values["name"],
                    membership_number=row.member.membership_number,
                    email=values["email"],
                    phone=row.member.phone,
                    grade=values["grade"],
                )
    except CaseError as error:
        # A rule the row checks did not foresee (a number saved by someone else meanwhile).
        savepoint.rollback()
        report.fatal = f"{report.row_word} {row.line}: {error.message}"
        report.added = report.updated = report.unchanged = 0
        return
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    # Counts and the file's digest only: a file's name may well name someone.
    record(
        actor,
        AuditAction.MEMBERS_IMPORTED,
        None,
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        sha256=report.sha256,
    )
