"""Members' data protection as regular background jobs: the retention schedule each night and
the subject access reminders each working morning (``JOBS_SCHEDULE``; the commands do the same)."""

from __future__ import annotations

from ..jobs.registry import Outcome, RunningJob, job_handler
from ..kernel import clock
from . import retention
from .services import requests_needing_reminder, send_reminders


@job_handler("privacy.retention", title="Applying the retention schedule")
def retention_job(job: RunningJob) -> Outcome:
    """As ``flask retention apply``: everything due, in the job's one transaction."""
    plan = retention.plan()
    if not plan.size:
        return Outcome("Nothing was due under the retention schedule.")
    done_so_far = 0

    def step(count: int) -> None:
        nonlocal done_so_far
        done_so_far += count
        job.progress(100 * done_so_far // plan.size, "Applying")

    done = retention.apply(plan, progress=step)
    return Outcome("Retention schedule applied: " + "; ".join(f"{what} {count}" for what, count in done.items()) + ".")


@job_handler("privacy.remind", title="E-mailing reminders about subject access requests")
def remind_job(job: RunningJob) -> Outcome:
    """As ``flask members remind``: admins, once a day, about requests due within a week or overdue."""
    today = clock.today()
    sent = send_reminders(today, requests_needing_reminder(today))
    return Outcome(f"Reminded {sent.admins} admin(s) about {sent.requests} subject access request(s).")
