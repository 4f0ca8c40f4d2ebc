"""A large evidence file is imported on a worker (here, without Redis, at once in the same
process): the upload page answers with the job's page, which ends at the batch, or lists
every bad row with nothing kept; the kept upload never outlives its job."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from napo_tracker import storage
from napo_tracker.evidence.models import EvidenceItem, ImportBatch
from napo_tracker.extensions import db
from napo_tracker.jobs.models import Job

from ..helpers import submit
from .conftest import csv_bytes


def _rows(count: int, *, bad_at: tuple[int, ...] = ()) -> bytes:
    rows = []
    for n in range(count):
        value = "not a number" if n in bad_at else str(100 + n % 90)
        day = f"2020-01-{1 + n % 28:02d}"
        rows.append(["London", "", "wmt_percent_avg", value, day, "", "union survey", f"S{n}", ""])
    return csv_bytes(rows)


def _upload(client, data: bytes, **fields: str):
    return submit(
        client,
        "/evidence/import",
        {"file": (io.BytesIO(data), "big.csv"), "visibility": "internal", **fields},
        content_type="multipart/form-data",
    )


def _items() -> int:
    return db.session.scalar(select(func.count()).select_from(EvidenceItem)) or 0


def test_a_large_file_is_imported_by_a_job_whose_page_ends_at_the_batch(app, client, login_as, world):
    app.config["IMPORT_INLINE_BYTES"] = 2_000
    data = _rows(200)
    assert len(data) > 2_000
    login_as(world.official)
    answer = _upload(client, data)
    assert answer.status_code == 302 and "/jobs/" in answer.location
    finished = client.get(answer.location)  # a job done sends its page on to the result
    assert finished.status_code == 302 and finished.location.endswith("/evidence/imports/IMP-0001")
    job = db.session.scalars(select(Job)).one()
    assert job.name == "evidence.import" and job.status == "done" and job.requested_by_id == world.official.id
    assert job.result_note.startswith("Imported 200 items")
    assert _items() == 200 and db.session.scalars(select(ImportBatch)).one().row_count == 200
    assert storage.stored_names() == []  # the kept upload went with the job


def test_a_large_file_with_bad_rows_ends_the_job_listing_them_and_keeps_nothing(app, client, login_as, world):
    app.config["IMPORT_INLINE_BYTES"] = 2_000
    login_as(world.london_rep)
    answer = _upload(client, _rows(200, bad_at=(3, 150)))
    page = client.get(answer.location)
    assert "It could not be done" in page.text
    assert "Nothing imported: 2 of 200 rows have problems" in page.text
    assert "Line 5:" in page.text and "Line 152:" in page.text  # the header is line 1
    job = db.session.scalars(select(Job)).one()
    assert job.status == "failed" and job.attempts == 1  # a refusal is final: not tried again
    assert _items() == 0 and db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0
    assert storage.stored_names() == []


def test_a_choice_the_person_may_not_make_is_refused_before_anything_is_kept(app, client, login_as, world):
    app.config["IMPORT_INLINE_BYTES"] = 2_000
    login_as(world.london_rep)
    answer = _upload(client, _rows(200), is_verified="y")
    assert answer.status_code == 400 and "Only national officials verify evidence." in answer.text
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0
    assert storage.stored_names() == [] and _items() == 0


def test_a_large_dry_run_checks_on_the_worker_and_writes_nothing(app, client, login_as, world):
    app.config["IMPORT_INLINE_BYTES"] = 2_000
    login_as(world.official)
    page = client.get(_upload(client, _rows(120), dry_run="y").location)
    assert "Checked 120 rows: all are fine. Nothing was written (dry run)." in page.text
    assert _items() == 0 and storage.stored_names() == []


def test_a_small_file_is_still_imported_on_the_upload_page(app, client, login_as, world):
    login_as(world.official)
    answer = _upload(client, _rows(3))
    assert answer.status_code == 302 and answer.location.endswith("/evidence/imports/IMP-0001")
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0
