"""Notices' background jobs: a notice served (its letter made and frozen), and the daily reminders."""

from __future__ import annotations

from datetime import date

from ..accounts.services import acting_user
from ..extensions import db
from ..jobs.registry import Gone, Outcome, RunningJob, job_handler
from ..jobs.services import page_path
from ..kernel.clock import today
from ..kernel.labels import N_
from ..regions.scoping import can_access_region
from .escalation import run_escalation
from .models import ForeseeabilityNotice
from .reminders import send_reminders
from .services import NoticeError, serve_notice


@job_handler("notices.serve", title=N_("Serving the notice"))
def serve_job(job: RunningJob, notice_id: int, served_on: str, language: str = "en") -> Outcome:
    """Serve the notice as asked, by someone who still covers its region; a notice served
    meanwhile is not served twice (``serve_notice`` refuses)."""
    actor = acting_user(job.requested_by_id)
    notice = db.session.get(ForeseeabilityNotice, notice_id)
    if notice is None:
        raise Gone("The notice no longer exists.")
    if not can_access_region(actor, notice.region_id):
        raise NoticeError(f"{notice.reference} is no longer in your regions, so it was not served.")
    job.progress(20, "Making the letter")
    serve_notice(actor, notice, date.fromisoformat(served_on), language=language)
    return Outcome(
        f"Notice {notice.reference} served. A written response is due by {notice.response_due_on:%A %d %B %Y}.",
        page_path("notices.detail", ref=notice.reference),
    )


@job_handler("notices.remind", title=N_("E-mailing reminders about notices"))
def remind_job(job: RunningJob) -> Outcome:
    """Today's reminders (``flask notices remind``): each rep once a day, whoever runs it."""
    result = send_reminders(today(), progress=lambda _sent: job.progress(50, "Sending"))
    return Outcome(f"Sent {result.sent} reminder e-mail(s) covering {result.notices} notice(s).")


@job_handler("notices.escalate", title=N_("Escalating overdue notices"))
def escalate_job(job: RunningJob) -> Outcome:
    """Today's escalation run (``flask notices escalate``): overdue notices with no response move
    up one rung, or their reps are asked to, as ``NOTICE_ESCALATION`` says."""
    run = run_escalation(today(), progress=lambda _n: job.progress(50, "Escalating"))
    return Outcome(
        f"{len(run.moved)} notice(s) escalated, {len(run.asked)} rep(s) asked to escalate, "
        f"{run.branch_emails} branch contact(s) e-mailed."
    )
