"""Casework's background job: the daily reminders about case deadlines."""

from __future__ import annotations

from ..jobs.registry import Outcome, RunningJob, job_handler
from ..kernel.clock import today
from ..kernel.labels import N_
from ..notifications.services import deliver_pending
from .deadlines import send_deadline_reminders


@job_handler("cases.remind", title=N_("Reminding reps of case deadlines"))
def remind_job(job: RunningJob) -> Outcome:
    """Today's deadline reminders (``flask cases remind``), then their e-mails."""
    told = send_deadline_reminders(today())
    job.progress(50, "Sending")
    sent = deliver_pending()
    return Outcome(f"{told} reminder(s) in inboxes; {sent.emails} e-mail(s) sent.")
