"""Imports an official can trust at once: XLSX as well as CSV through the same validator, the
visibility, verification and source chosen for the whole file, and every import a batch
(who, when, file, SHA-256, rows) listed, verified and reverted as a whole; bad workbooks
refused row by row with nothing written."""

from __future__ import annotations

import hashlib
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from napo_tracker.audit.models import AuditEvent
from napo_tracker.briefings import services as briefing_services
from napo_tracker.evidence import importer
from napo_tracker.evidence.importer import HEADER, ImportOptions, ImportRefused, import_csv
from napo_tracker.evidence.models import EvidenceItem, ImportBatch
from napo_tracker.evidence.services import EvidenceError, revert_batch, verify_batch
from napo_tracker.extensions import db
from tests.factories import make_briefing, make_section

from ..helpers import submit
from .conftest import csv_bytes, good_rows


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(EvidenceItem)) or 0


def _workbook(
    rows, *, sheets: int = 1, merge: str | None = None, places: str | None = None, iso_dates: bool = False
) -> bytes:
    book = Workbook()
    book.iso_dates = iso_dates  # dates written as dates (strict OOXML), read back as dates, not datetimes
    sheet = book.active
    assert sheet is not None
    sheet.append(list(HEADER))
    for row in rows:
        sheet.append(row)
    if places:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=4, max_col=4):
            cell.number_format = places
    if merge:
        sheet.merge_cells(merge)
    for number in range(1, sheets):
        book.create_sheet(f"Notes {number}")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


VACANCIES = [
    ["London", "", "vacancies", 14.2, datetime(2023, 3, 31), "PO", "", "PQ 123456", ""],
    ["Wales", "", "vacancies", 3, datetime(2023, 3, 31), "PO", "", "PQ 123456", ""],
    ["", "", "joiners", 412, date(2023, 3, 31), "PSO", "", "PQ 123456", "PSOs appointed in the year."],
]


def _import(actor, data: bytes, filename: str = "vacancies.xlsx", **options):
    report = import_csv(actor, io.BytesIO(data), filename=filename, options=ImportOptions(**options))
    if report.is_ok:
        db.session.commit()
    else:
        db.session.rollback()
    return report


def test_an_xlsx_lands_as_one_public_verified_batch_with_places_as_shown(world):
    data = _workbook(VACANCIES, places="0.00")
    report = _import(world.official, data, visibility="public", is_verified=True, source_type="parliamentary_answer")
    assert report.is_ok, (report.fatal, report.errors)
    batch = db.session.scalars(select(ImportBatch)).one()
    assert batch.reference == report.batch_reference == "IMP-0001"
    assert batch.sha256 == hashlib.sha256(data).hexdigest() and batch.row_count == 3
    assert batch.filename == "vacancies.xlsx" and batch.created_by_id == world.official.id
    items = db.session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)).all()
    assert all(i.is_public and i.is_verified and i.verified_by_id == world.official.id for i in items)
    assert all(i.source_type == "parliamentary_answer" and i.import_batch_id == batch.id for i in items)
    # 14.2 shown as 14.20 in the workbook keeps its two places; the joiners metric exists.
    assert (items[0].value_places, items[1].value_places) == (2, 2)
    assert [i.metric.code for i in items if i.metric] == ["vacancies", "vacancies", "joiners"]


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (
            lambda: _workbook([["London", "", "vacancies", "=SUM(1,2)", datetime(2023, 3, 31), "", "FOI", "x", ""]]),
            (2, "value holds a formula (=SUM(1,2)); paste its value instead"),
        ),
        (
            lambda: _workbook(
                [["London", "", "vacancies", 4, "31/03/2023", "", "FOI", "x", ""], VACANCIES[1]],
            ),
            (2, "as_of '31/03/2023' is text, not a date; format the column as dates"),
        ),
        (
            lambda: _workbook([["London", "", "vacancies", 4, 45016, "", "FOI", "x", ""], VACANCIES[1]]),
            (2, "as_of 45016 is not a date; format the column as dates"),
        ),
        (
            lambda: _workbook(VACANCIES, merge="A3:B3"),
            (3, "cells A3:B3 are merged; unmerge them so each cell holds one value"),
        ),
    ],
    ids=["formula", "date as text", "date as a number", "merged cells"],
)
def test_a_bad_workbook_is_refused_row_by_row_and_nothing_is_written(world, build, expected):
    report = _import(world.official, build(), source_type="foi_response")
    assert not report.is_ok and report.row_word == "row"
    assert (expected[0], expected[1]) in [(e.line, e.reason) for e in report.errors]
    assert _count() == 0 and db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_dates_held_as_dates_and_figures_typed_as_text_are_read_as_meant(world):
    rows = [
        ["London", "", "vacancies", "1,234", date(2023, 3, 31), "PO", "", "PQ 1", ""],
        ["Wales", "", "vacancies", "14.20", date(2023, 3, 31), "PO", "", "PQ 2", ""],
        ["Wales", "", "wmt_percent_avg", "135%", datetime(2023, 4, 30), "PO", "", "PQ 3", ""],
    ]
    report = _import(world.official, _workbook(rows, iso_dates=True), source_type="parliamentary_answer")
    assert report.is_ok, (report.fatal, report.errors)
    items = db.session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)).all()
    assert [(i.as_of, i.value, i.value_places) for i in items] == [
        (date(2023, 3, 31), 1234, 0),
        (date(2023, 3, 31), Decimal("14.20"), 2),
        (date(2023, 4, 30), 135, 0),
    ]


def test_each_item_and_the_batch_say_who_imported_them_when_and_what_was_chosen(world):
    data = csv_bytes(good_rows())
    options = {"visibility": "public", "is_verified": True, "source_publisher": "Hansard"}
    report = _import(world.official, data, filename="figures.csv", **options)
    assert report.is_ok and report.summary() == "Imported 4 items (EV-0001 to EV-0004) as IMP-0001."
    batch = db.session.scalars(select(ImportBatch)).one()
    assert (batch.visibility, batch.is_verified, batch.verified_by_id) == ("public", True, world.official.id)
    assert (batch.first_reference, batch.last_reference, batch.row_count) == ("EV-0001", "EV-0004", 4)
    assert batch.verified_at is not None and batch.source_type is None
    items = db.session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)).all()
    assert {(i.created_by_id, i.verified_by_id, i.created_at, i.verified_at) for i in items} == {
        (world.official.id, world.official.id, items[0].created_at, items[0].created_at)
    }
    assert {(i.source_publisher, i.source_url, i.version, i.visibility) for i in items} == {
        ("Hansard", "", 1, "public")
    }
    entry = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evidence:imported")).one()
    assert (entry.actor_id, entry.target_type, entry.target_ref) == (world.official.id, "import_batches", "IMP-0001")
    assert entry.details == {
        "file": "figures.csv",
        "added": 4,
        "first": "EV-0001",
        "last": "EV-0004",
        "sha256": hashlib.sha256(data).hexdigest(),
        "visibility": "public",
        "verified": True,
    }


def test_an_unverified_import_names_no_verifier_and_the_command_line_no_importer(world):
    report = _import(world.london_rep, csv_bytes(good_rows()[:2]), filename="", source_type="rep_survey")
    assert report.is_ok, report.errors
    batch = db.session.scalars(select(ImportBatch)).one()
    assert (batch.is_verified, batch.verified_by_id, batch.verified_at) == (False, None, None)
    assert (batch.source_type, batch.created_by_id, batch.filename) == ("rep_survey", world.london_rep.id, "")
    items = db.session.scalars(select(EvidenceItem)).all()
    assert {(i.is_verified, i.verified_by_id, i.verified_at, i.created_by_id) for i in items} == {
        (False, None, None, world.london_rep.id)
    }
    entry = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evidence:imported")).one()
    assert entry.details.get("file") is None and entry.details["verified"] is False
    assert _import(None, csv_bytes(good_rows()[2:]), is_verified=True).is_ok
    batch = db.session.scalars(select(ImportBatch).where(ImportBatch.reference == "IMP-0002")).one()
    assert (batch.created_by_id, batch.verified_by_id, batch.is_verified) == (None, None, True)
    items = db.session.scalars(select(EvidenceItem).where(EvidenceItem.import_batch_id == batch.id)).all()
    assert {(i.created_by_id, i.verified_by_id, i.is_verified) for i in items} == {(None, None, True)}


def test_a_workbook_of_several_sheets_is_refused(world):
    report = _import(world.official, _workbook(VACANCIES, sheets=3), source_type="foi_response")
    assert report.fatal is not None and "has 3 sheets ('Sheet', 'Notes 1', 'Notes 2')" in report.fatal
    assert _count() == 0


def test_a_rep_may_not_verify_a_whole_file(world):
    with pytest.raises(ImportRefused, match="Only national officials verify"):
        import_csv(world.london_rep, io.BytesIO(csv_bytes(good_rows())), options=ImportOptions(is_verified=True))


def test_a_batch_is_verified_and_reverted_whole(world):
    report = _import(world.official, csv_bytes(good_rows()), filename="figures.csv")
    batch = db.session.scalars(select(ImportBatch).where(ImportBatch.reference == report.batch_reference)).one()
    assert batch.row_count == 4 and not batch.is_verified
    with pytest.raises(EvidenceError, match="Only national officials"):
        verify_batch(world.london_rep, batch)
    assert verify_batch(world.official, batch) == 4
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(EvidenceItem.is_verified.is_(False))) == 0
    assert revert_batch(world.official, batch) == 4
    db.session.commit()
    assert _count() == 0 and batch.is_reverted
    with pytest.raises(EvidenceError, match="already reverted"):
        revert_batch(world.official, batch)


def test_a_batch_a_published_briefing_cites_is_never_reverted(world):
    report = _import(world.official, csv_bytes(good_rows()), filename="figures.csv", visibility="public")
    batch = db.session.scalars(select(ImportBatch).where(ImportBatch.reference == report.batch_reference)).one()
    cited = db.session.scalars(select(EvidenceItem).where(EvidenceItem.region_id == world.wales.id)).one()
    briefing = make_briefing(world.official)
    make_section(world.official, briefing, body=f"Staff in post [={cited.reference}].")
    briefing_services.publish(world.official, briefing)
    db.session.commit()
    with pytest.raises(EvidenceError, match=f"published briefing {briefing.reference} cites its figures"):
        revert_batch(world.official, batch)
    db.session.rollback()
    assert _count() == 4


def test_batches_are_listed_verified_and_reverted_from_their_pages(client, login_as, world):
    login_as(world.official)
    upload = submit(
        client,
        "/evidence/import",
        {
            "file": (io.BytesIO(_workbook(VACANCIES)), "pq.xlsx"),
            "visibility": "public",
            "source_type": "parliamentary_answer",
        },
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302 and upload.location.endswith("/evidence/imports/IMP-0001")
    listing = client.get("/evidence/imports")
    assert "IMP-0001" in listing.text and "pq.xlsx" in listing.text and "Not verified" in listing.text
    page = client.get("/evidence/imports/IMP-0001")
    assert page.status_code == 200 and "3 items left from this import" in page.text
    assert submit(client, "/evidence/imports/IMP-0001/verify", {}).status_code == 302
    assert "Verified" in client.get("/evidence/imports/IMP-0001").text
    assert submit(client, "/evidence/imports/IMP-0001/revert", {}).status_code == 302
    assert _count() == 0
    login_as(world.london_rep)
    assert client.get("/evidence/imports").status_code in (302, 403)
    bad = submit(
        client,
        "/evidence/import",
        {"file": (io.BytesIO(_workbook(VACANCIES, sheets=2)), "two.xlsx"), "source_type": "foi_response"},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and "2 sheets" in bad.text


def test_the_command_line_takes_the_whole_file_options_and_lists_batches(app, world, tmp_path):
    path = tmp_path / "pq.xlsx"
    path.write_bytes(_workbook(VACANCIES))
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "evidence",
            "import",
            str(path),
            "--visibility",
            "public",
            "--verified",
            "--source",
            "parliamentary_answer",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "as IMP-0001" in result.output
    assert all(i.is_verified and i.is_public for i in db.session.scalars(select(EvidenceItem)))
    listing = runner.invoke(args=["evidence", "batches"])
    assert listing.output.startswith("IMP-0001\t") and "\t3\tpq.xlsx\tpublic\tverified" in listing.output
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_workbook([["London", "", "vacancies", 1, "31/03/2023", "", "FOI", "x", ""]]))
    failed = runner.invoke(args=["evidence", "import", str(bad)])
    assert failed.exit_code == 1 and "row 2: as_of '31/03/2023' is text" in failed.output


def test_a_batch_reference_taken_meanwhile_is_tried_again_and_a_long_file_name_is_cut(world, monkeypatch):
    next_numbered_reference = importer.next_numbered_reference
    taken_meanwhile: list[str] = []

    def another_import_lands_first(column, prefix: str) -> str:
        reference = next_numbered_reference(column, prefix)
        if not taken_meanwhile:  # once: another import takes the reference we were about to use
            db.session.add(ImportBatch(reference=reference, sha256="0" * 64, visibility="internal"))
            db.session.flush()
            taken_meanwhile.append(reference)
        return reference

    monkeypatch.setattr(importer, "next_numbered_reference", another_import_lands_first)
    name = "f" * 250 + ".csv"
    report = _import(world.official, csv_bytes(good_rows()), filename=name)
    assert report.is_ok and taken_meanwhile == ["IMP-0001"] and report.batch_reference == "IMP-0002"
    batch = db.session.scalars(select(ImportBatch).where(ImportBatch.reference == "IMP-0002")).one()
    assert batch.filename == "f" * 200 and batch.row_count == 4
    entry = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evidence:imported")).one()
    assert entry.details["file"] == "f" * 120
