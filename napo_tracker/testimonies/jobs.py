"""Testimonies' background job: the daily erasure of originals past the retention period."""

from __future__ import annotations

from ..jobs.registry import Outcome, RunningJob, job_handler
from ..kernel import clock
from ..kernel.labels import N_
from .services import erase_original, originals_due_for_erasure, retention_period


@job_handler("testimonies.purge", title=N_("Erasing testimonies' original words"))
def purge_job(job: RunningJob) -> Outcome:
    """As ``flask testimonies purge``: every original decided before the retention period, all or none."""
    today = clock.today()
    due = originals_due_for_erasure(today)
    for done, testimony in enumerate(due, start=1):
        erase_original(None, testimony, today)
        job.progress(100 * done // len(due))
    return Outcome(f"Erased {len(due)} original(s) decided {retention_period()} or more ago.")
