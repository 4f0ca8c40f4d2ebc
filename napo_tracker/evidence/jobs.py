"""A large evidence file imported on a worker.

A file above ``IMPORT_INLINE_BYTES`` is kept (encrypted, like every stored file) and imported
by the ``evidence.import`` job, whose page shows how far it has read; the upload page answers at
once. The import itself is the same all-or-nothing ``import_csv``: a file with bad rows ends the
job failed, listing the rows, with nothing of it kept. The kept upload goes when the job ends,
whichever way (on its last attempt, if something unexpected stops it).
"""

from __future__ import annotations

import io
from dataclasses import asdict

from flask import current_app

from .. import storage
from ..accounts.models import User
from ..accounts.services import acting_user
from ..jobs.models import MAX_ATTEMPTS, Job
from ..jobs.registry import Gone, Outcome, RunningJob, job_handler
from ..jobs.services import enqueue, page_path, within_the_minute
from ..kernel import transaction
from ..kernel.errors import DomainError
from ..kernel.labels import N_
from .importer import ImportOptions, ImportReport, check_options, import_csv

LISTED_ROWS = 25  # of a refused file's bad rows, in the job's message


class ImportNotTaken(DomainError):
    """The file was read on the worker and refused whole; the message lists why."""


def is_large(data: bytes) -> bool:
    return len(data) > int(current_app.config["IMPORT_INLINE_BYTES"])


def ask_for_import(actor: User, data: bytes, *, filename: str, options: ImportOptions, dry_run: bool) -> Job:
    """Keep the file and have it imported (or only checked) on a worker. The options are
    checked now, so a choice the person may not make is refused before anything is kept; the
    same file asked for twice within a minute (a second click) is imported once."""
    check_options(actor, options)
    stored = storage.save(data)
    return enqueue(
        "evidence.import",
        stored.stored_name,
        filename[:200],
        asdict(options),
        dry_run,
        requested_by=actor,
        subject=filename[:100],
        key=within_the_minute(f"evidence.import:{actor.id}:{stored.sha256}:{dry_run}"),
    )


@job_handler("evidence.import", title=N_("Importing evidence"))
def import_job(job: RunningJob, stored_name: str, filename: str, options: dict, dry_run: bool) -> Outcome:
    try:
        data = storage.read(stored_name)
    except FileNotFoundError as missing:
        raise Gone("The uploaded file is no longer kept; upload it again.") from missing
    storage.delete_after_commit(stored_name)
    if job.attempt >= MAX_ATTEMPTS:  # no attempt comes after this one: the file goes however it ends
        transaction.on_rollback(lambda: storage.delete(stored_name))
    actor = acting_user(job.requested_by_id)
    size = max(len(data), 1)
    read = 0

    def progress(chunk: int) -> None:
        nonlocal read
        read += chunk
        job.progress(min(99, 100 * read // size), f"{read * 100 // size}% of the file read")

    report = import_csv(
        actor, io.BytesIO(data), filename=filename, dry_run=dry_run, progress=progress, options=ImportOptions(**options)
    )
    if not report.is_ok:  # refused for good (no attempt would read it otherwise): the file goes now
        storage.delete(stored_name)
        raise ImportNotTaken(refusal_text(report))
    if report.batch_reference:
        return Outcome(report.summary(), page_path("evidence.batch", reference=report.batch_reference))
    return Outcome(report.summary())


def refusal_text(report: ImportReport) -> str:
    """The report's summary and its bad rows, one a line, as the job's page shows them."""
    lines = [report.summary()]
    lines += [f"{report.row_word.capitalize()} {error.line}: {error.reason}" for error in report.errors[:LISTED_ROWS]]
    more = report.error_count - min(len(report.errors), LISTED_ROWS)
    if more > 0:
        lines.append(f"… and {more:,} more.")
    return "\n".join(lines)
