"""The CSV importer: every fault the issue lists, through the real validator and database."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import IO, cast

import pytest
from sqlalchemy import func, select

from napo_tracker.audit.models import AuditEvent
from napo_tracker.evidence.importer import MAX_LINE_BYTES, import_csv
from napo_tracker.evidence.models import EvidenceItem, ImportBatch
from napo_tracker.extensions import db

from .conftest import csv_bytes, good_rows


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(EvidenceItem)) or 0


def _import(actor, data: bytes, **kwargs):
    report = import_csv(actor, io.BytesIO(data), filename="test.csv", **kwargs)
    if report.is_ok and not report.is_dry_run:
        db.session.commit()
    else:
        db.session.rollback()
    return report


def _reasons(report) -> dict[int, str]:
    return {error.line: error.reason for error in report.errors}


def test_a_good_file_lands_whole_with_exact_values(world):
    report = _import(world.official, csv_bytes(good_rows(), bom=True))
    assert report.is_ok, report.errors
    assert report.added == 4 and _count() == 4
    items = {i.metric.code if i.metric else "": i for i in db.session.scalars(select(EvidenceItem)).unique()}
    # names or codes, any case; both date formats; empty region is national
    caseload_unit = items["caseload"].unit
    assert caseload_unit is not None and caseload_unit.name == "London IOM" and items["caseload"].grade == "PO"
    assert items["caseload"].as_of.isoformat() == "2014-05-14"
    assert items["vacancies"].region is None and items["vacancies"].source_type == "inspectorate_report"
    assert items["staff_in_post"].value == Decimal("24.43")
    assert f"{items['staff_in_post'].value.normalize():f}" == "24.43"
    imported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evidence:imported")).one()
    assert imported.details["added"] == 4


def test_reimporting_the_same_file_adds_nothing_and_says_so(world):
    data = csv_bytes(good_rows())
    assert _import(world.official, data).added == 4
    again = _import(world.official, data)
    assert again.is_ok and again.is_already_imported and again.added == 0
    assert "already in the tracker" in again.summary()
    assert _count() == 4 and again.batch_reference is None  # no second, empty batch
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 1


def test_every_bad_row_is_reported_by_line_and_nothing_is_written(world):
    rows = good_rows() + [
        ["Atlantis", "", "caseload", "10", "2024-01-31", "", "rep survey", "x", ""],  # line 6
        ["London", "", "happiness", "10", "2024-01-31", "", "rep survey", "x", ""],  # line 7
        ["London", "", "caseload", "ten", "2024-01-31", "", "rep survey", "x", ""],  # line 8
        ["London", "", "caseload", "10", "31/02/2024", "", "rep survey", "x", ""],  # line 9
        ["London", "Cardiff and the Vale", "caseload", "10", "2024-01-31", "", "rep survey", "x", ""],  # line 10
        ["London", "", "caseload", "10", "2024-01-31", "", "gossip", "x", ""],  # line 11
        ["London", "", "caseload", "", "2024-01-31", "", "rep survey", "x", ""],  # line 12
        ["London", "London PDU", "wmt_percent_avg", "192", "2023-01-31", "", "union survey", "Briefing A", ""],  # 13
    ]
    report = _import(world.official, csv_bytes(rows))
    assert not report.is_ok
    reasons = _reasons(report)
    assert "unknown region 'Atlantis'" in reasons[6]
    assert "unknown metric 'happiness'" in reasons[7]
    assert "'ten' is not a number" in reasons[8]
    assert "not a real date" in reasons[9]
    assert "not in London" in reasons[10]
    assert "unknown source 'gossip'" in reasons[11]
    assert "give a value, a statement, or both" in reasons[12]
    assert "duplicate of line 2" in reasons[13]
    assert sorted(reasons) == [6, 7, 8, 9, 10, 11, 12, 13]
    assert _count() == 0
    assert "Nothing imported: 8 of 12 rows" in report.summary()


def test_dry_run_writes_nothing_and_a_duplicate_of_an_existing_item_is_refused(world):
    report = _import(world.official, csv_bytes(good_rows()), dry_run=True)
    assert report.is_ok and "dry run" in report.summary()
    assert _count() == 0
    _import(world.official, csv_bytes(good_rows()[:1]))
    report = _import(world.official, csv_bytes(good_rows()))
    assert not report.is_ok and _reasons(report) == {2: "duplicate of an item already in the tracker"}
    assert _count() == 1


def test_spreadsheet_dates_times_and_mixed_encodings(world):
    rows = [
        ["London", "", "caseload", "10", "45322", "", "rep survey", "a", ""],
        ["London", "", "caseload", "11", "31/01/2024 00:00", "", "rep survey", "b", ""],
        ["London", "", "caseload", "12", "2024-01-31 00:00:00", "", "rep survey", "c", ""],
        ["London", "", "caseload", "13", "01/31/2024", "", "rep survey", "d", ""],
        ["London", "", "caseload", "14", "2999-01-01", "", "rep survey", "e", ""],
    ]
    reasons = _reasons(_import(world.official, csv_bytes(rows)))
    assert "looks like a spreadsheet date number" in reasons[2]
    assert 3 not in reasons and 4 not in reasons  # midnight times from spreadsheets are fine
    assert "not a real date" in reasons[5]
    assert "in the future" in reasons[6]
    # a line saved in another encoding is reported on its line
    data = csv_bytes(good_rows()[:1]) + "London,,caseload,10,2024-01-31,,rep survey,Caf\u00e9 survey,\r\n".encode(
        "cp1252"
    )
    report = _import(world.official, data)
    assert "not UTF-8" in _reasons(report)[3]
    assert _count() == 0


def test_ten_thousand_columns(world):
    wide_header = _import(world.official, csv_bytes([], header=[f"c{i}" for i in range(10_000)]))
    assert "10,000 columns" in wide_header.fatal
    wide_row = _import(world.official, csv_bytes([["x"] * 10_000]))
    assert _reasons(wide_row) == {2: "has 10,000 columns; expected 9"}


class EndlessLine(io.RawIOBase):
    """A file whose second line never ends (a 1 GB line), without holding it in memory."""

    def __init__(self):
        self.header = csv_bytes([])
        self.served = 0

    def readable(self):
        return True

    def read(self, size=-1):
        if self.header:
            chunk, self.header = self.header, b""
            return chunk
        self.served += size
        assert self.served < 1024**3, "the importer read on past the line limit"
        return b"a" * size


def test_a_gigabyte_line_is_refused_after_the_limit(world):
    stream = EndlessLine()
    report = import_csv(world.official, cast(IO[bytes], stream))
    db.session.rollback()
    assert report.fatal == f"line 2 is longer than {MAX_LINE_BYTES // 1024:,} KB; this is not an evidence CSV."
    assert report.filename == "" and report.added == 0  # no name given: none is made up
    assert stream.served <= MAX_LINE_BYTES + 2 * 64 * 1024


def test_the_file_is_read_to_its_end_and_its_progress_told_as_it_goes(world):
    data = csv_bytes(good_rows())
    read: list[int] = []
    report = import_csv(world.official, io.BytesIO(data), filename="figures.csv", progress=read.append)
    assert report.is_ok and report.filename == "figures.csv" and sum(read) == len(data)
    db.session.rollback()


def test_a_formula_in_a_cell_is_kept_as_text(world):
    rows = [
        ["London", "", "caseload", "=1+2", "2024-01-31", "", "rep survey", "a", ""],
        ["London", "", "", "", "2024-01-31", "", "rep survey", "b", '=HYPERLINK("http://x.example","y")'],
    ]
    report = _import(world.official, csv_bytes(rows))
    assert "'=1+2' is not a number" in _reasons(report)[2]
    ok = _import(world.official, csv_bytes(rows[1:]))
    assert ok.is_ok
    assert (db.session.scalars(select(EvidenceItem.statement)).one() or "").startswith("=HYPERLINK")


def test_unreadable_files_say_why(world):
    for data, message in [
        (b"", "the file is empty"),
        (b"region,unit,metric\r\n", "missing value, as_of, grade, source, source_ref, statement"),
        (b'region,unit,metric,value,as_of,grade,source,source_ref,statement\r\nLondon,"never closed', "never closed"),
        (csv_bytes(good_rows(), encoding="utf-16"), "UTF-16"),
    ]:
        report = _import(world.official, data)
        assert report.fatal and message in report.fatal, (data[:40], report.fatal)


def test_reps_import_only_for_their_regions(world):
    report = _import(world.london_rep, csv_bytes(good_rows()))
    reasons = _reasons(report)
    assert "only national officials" in reasons[4]
    assert "Wales is not one of your regions" in reasons[5]
    assert _count() == 0


def test_cli_import_with_progress_dry_run_and_summary(app, world, tmp_path):
    path = tmp_path / "figures.csv"
    path.write_bytes(csv_bytes(good_rows()))
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["evidence", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0 and "dry run" in dry.output and _count() == 0
    done = runner.invoke(args=["evidence", "import", str(path)])
    assert done.exit_code == 0 and "Imported 4 items" in done.output
    assert _count() == 4
    again = runner.invoke(args=["evidence", "import", str(path)])
    assert again.exit_code == 0 and "Nothing added" in again.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([["Atlantis", "", "caseload", "1", "2024-01-31", "", "rep survey", "a", ""]]))
    failed = runner.invoke(args=["evidence", "import", str(bad)])
    assert failed.exit_code == 1 and "line 2: unknown region 'Atlantis'" in failed.output


@pytest.mark.sqlite_only
def test_memory_stays_flat_as_the_file_grows(world, monkeypatch):
    """Rows are read and checked in batches of 100 and not kept: from 2,400 rows to 9,600, the
    peak grows by what the duplicate check keeps of each row (its fingerprint, about 50 bytes),
    far less than a row itself would take (several hundred bytes as parsed values).

    Flat memory is a property of the reader, not of the database: measured on SQLite only,
    because tracemalloc makes the PostgreSQL driver very slow.
    """
    import tracemalloc

    from napo_tracker.evidence import importer

    monkeypatch.setattr(importer, "BATCH_SIZE", 100)

    def rows(n, offset):
        return [["London", "", "caseload", str(offset + i), "2024-01-31", "", "rep survey", "m", ""] for i in range(n)]

    _import(world.official, csv_bytes(rows(50, 500000)), dry_run=True)  # caches filled once, not measured
    peaks = []
    for n, offset in ((2400, 0), (9600, 100000)):
        data = csv_bytes(rows(n, offset))
        tracemalloc.start()
        report = _import(world.official, data, dry_run=True)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert report.is_ok
    per_row = (peaks[1] - peaks[0]) / (9600 - 2400)
    assert per_row < 120, f"{per_row:.0f} bytes kept per row"
