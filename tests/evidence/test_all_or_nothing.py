"""All or nothing: an import or an item that fails half-way, after rows were already
written to the database, leaves none of them behind, whichever way it came in: the web
upload, the command line, or the service with the caller's rollback."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from napo_tracker.audit.models import AuditEvent
from napo_tracker.evidence import importer, services
from napo_tracker.evidence.importer import import_csv
from napo_tracker.evidence.models import EvidenceItem, ImportBatch, Metric, metric_by_code
from napo_tracker.evidence.services import EvidenceError, create_metric
from napo_tracker.extensions import db
from napo_tracker.references import COLLISION_MESSAGE

from ..factories import make_evidence
from ..helpers import form_tokens, submit
from .conftest import csv_bytes

REFUSED = "The audit log is not taking entries just now."


def _count(model: type = EvidenceItem) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _rows(count: int) -> list[list[str]]:
    return [
        ["London", "", "caseload", str(40 + n), "2024-01-31", "", "rep survey", f"Survey {n}", ""] for n in range(count)
    ]


def _last_row_bad() -> bytes:
    """Five good rows and a sixth whose region does not exist."""
    return csv_bytes(_rows(5) + [["Atlantis", "", "caseload", "1", "2024-01-31", "", "rep survey", "x", ""]])


@pytest.fixture
def inserted(monkeypatch) -> list[int]:
    """Batches of two; the running number of rows inserted after each batch is recorded,
    to prove the rows really were written before the import failed."""
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    written: list[int] = []
    flush = importer._Importer.flush

    def recording_flush(self: importer._Importer) -> None:
        flush(self)
        written.append(self.report.added)

    monkeypatch.setattr(importer._Importer, "flush", recording_flush)
    return written


def _refuse_audit(*args, **kwargs):
    raise EvidenceError(REFUSED)


# ---------------------------------------------------------------- a bad last row


def test_a_bad_last_row_takes_back_the_rows_already_written_service(world, inserted):
    report = import_csv(world.official, io.BytesIO(_last_row_bad()), filename="figures.csv")
    assert not report.is_ok and inserted == [2, 4, 5] and report.added == 0  # in, then taken back
    # The importer's own guard: its savepoint is rolled back already, so even a caller that
    # commits now keeps nothing.
    assert _count() == 0
    db.session.commit()
    assert _count() == 0


def test_a_bad_last_row_takes_back_the_rows_already_written_upload(client, login_as, world, inserted):
    login_as(world.official)
    response = submit(
        client,
        "/evidence/import",
        {"file": (io.BytesIO(_last_row_bad()), "figures.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "unknown region &#39;Atlantis&#39;" in response.text
    assert inserted == [2, 4, 5]
    assert _count() == 0


def test_a_bad_last_row_takes_back_the_rows_already_written_cli(app, world, tmp_path: Path, inserted):
    path = tmp_path / "figures.csv"
    path.write_bytes(_last_row_bad())
    result = app.test_cli_runner().invoke(args=["evidence", "import", str(path)])
    assert result.exit_code == 1 and "line 7: unknown region 'Atlantis'" in result.output
    assert inserted == [2, 4, 5]
    assert _count() == 0


# ---------------------------------------------------------------- an error after the rows are in


def test_an_error_after_the_rows_are_in_leaves_none_service(world, monkeypatch):
    monkeypatch.setattr(importer, "record", _refuse_audit)
    with pytest.raises(EvidenceError, match=REFUSED):
        import_csv(world.official, io.BytesIO(csv_bytes(_rows(5))), filename="figures.csv")
    assert _count() == 5  # written, not yet committed
    db.session.rollback()
    assert _count() == 0


def test_an_error_after_the_rows_are_in_leaves_none_upload(client, login_as, world, monkeypatch):
    login_as(world.official)
    page = client.get("/evidence/import")
    monkeypatch.setattr(importer, "record", _refuse_audit)
    response = client.post(
        "/evidence/import",
        data={**form_tokens(page.data), "file": (io.BytesIO(csv_bytes(_rows(5))), "figures.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and REFUSED in response.text
    assert _count() == 0 and not db.session.scalar(select(AuditEvent).where(AuditEvent.action == "evidence:imported"))


def test_an_error_after_the_rows_are_in_leaves_none_cli(app, world, tmp_path: Path, monkeypatch):
    path = tmp_path / "figures.csv"
    path.write_bytes(csv_bytes(_rows(5)))
    monkeypatch.setattr(importer, "record", _refuse_audit)
    result = app.test_cli_runner().invoke(args=["evidence", "import", str(path)])
    assert result.exit_code == 1 and REFUSED in result.output
    assert _count() == 0


def test_a_crash_half_way_through_an_import_takes_back_only_the_import(world, monkeypatch, inserted):
    """A failure the importer does not expect (a bug, a lost connection) still takes back
    its own rows, whatever the caller then does with the rest of its transaction."""
    create_metric(world.admin, code="court_backlog", label="Court report backlog", unit="count")
    flush = importer._Importer.flush

    def failing_flush(self: importer._Importer) -> None:
        if self.report.added >= 2:
            raise ConnectionError("the database went away")
        flush(self)

    monkeypatch.setattr(importer._Importer, "flush", failing_flush)
    with pytest.raises(ConnectionError):
        import_csv(world.official, io.BytesIO(csv_bytes(_rows(5))), filename="figures.csv")
    db.session.commit()
    assert _count() == 0 and db.session.scalar(select(Metric.code).where(Metric.code == "court_backlog"))


# ---------------------------------------------------------------- one item


def test_an_item_whose_audit_entry_fails_is_not_kept_service(world, monkeypatch):
    monkeypatch.setattr(services, "record", _refuse_audit)
    with pytest.raises(EvidenceError, match=REFUSED):
        make_evidence(world.official, region=world.london)
    assert _count() == 1  # flushed, with its reference, before the audit entry failed
    db.session.rollback()
    assert _count() == 0


def test_an_item_whose_audit_entry_fails_is_not_kept_request(client, login_as, world, monkeypatch):
    login_as(world.official)
    staff_in_post = db.session.scalar(select(Metric.id).where(Metric.code == "staff_in_post"))
    page = client.get("/evidence/new")
    monkeypatch.setattr(services, "record", _refuse_audit)
    response = client.post(
        "/evidence/new",
        data={
            **form_tokens(page.data),
            "region_id": str(world.wales.id),
            "metric_id": str(staff_in_post),
            "value": "24.43",
            "as_of": "2024-03-31",
            "source_type": "management_data",
            "source_title": "FOI reply",
            "visibility": "internal",
        },
    )
    assert response.status_code == 400 and REFUSED in response.text
    assert _count() == 0


def test_an_import_whose_references_are_taken_at_every_try_says_so_and_leaves_nothing(world):
    # The newest item holding an older number, as when another import lands between our tries:
    # every reference this import picks is taken.
    make_evidence(world.official, region=world.london)
    newest = make_evidence(world.official, region=world.london)
    newest.reference = "EV-0000"
    db.session.commit()
    report = import_csv(world.official, io.BytesIO(csv_bytes(_rows(3))), filename="t.csv")
    db.session.rollback()
    assert report.fatal == COLLISION_MESSAGE and not report.is_ok
    assert report.summary() == f"Nothing imported: {COLLISION_MESSAGE}"
    assert _count() == 2 and _count(ImportBatch) == 0


def test_a_figure_saved_by_someone_else_while_the_file_is_read_ends_the_import_with_a_message(world, monkeypatch):
    next_references = importer._next_references

    def someone_else_saves_the_first_row_first(count: int) -> list[str]:
        # Another writer's figure, equal to the file's first row, lands after the importer
        # looked for duplicates and before its own rows go in.
        caseload = metric_by_code("caseload")
        assert caseload is not None
        services.create_evidence(
            world.official,
            region_id=world.london.id,
            metric_id=caseload.id,
            value=Decimal("40"),
            as_of=date(2024, 1, 31),
            source_type="rep_survey",
            source_title="Survey 0",
        )
        return next_references(count)

    monkeypatch.setattr(importer, "_next_references", someone_else_saves_the_first_row_first)
    report = import_csv(world.official, io.BytesIO(csv_bytes(_rows(3))), filename="t.csv")
    db.session.rollback()
    assert report.fatal == "another change to the evidence was saved at the same moment; please import again."
    assert not report.is_ok and _count() == 0 and _count(ImportBatch) == 0
