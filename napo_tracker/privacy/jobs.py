"""Members' data protection as background jobs: a subject access export made on a worker, and
regularly the retention schedule each night and the subject access reminders each working
morning (``JOBS_SCHEDULE``; the commands do the same)."""

from __future__ import annotations

from ..accounts.services import acting_user
from ..extensions import db
from ..jobs.registry import Gone, Outcome, RunningJob, job_handler
from ..jobs.services import page_path
from ..kernel import clock
from ..kernel.labels import N_
from . import retention
from .models import SubjectAccessRequest
from .services import make_export, requests_needing_reminder, send_reminders


@job_handler("privacy.export", title=N_("Making a subject access export"))
def export_job(job: RunningJob, request_id: int) -> Outcome:
    """Make and keep the export that answers a request, for the admin who asked (still an admin)."""
    actor = acting_user(job.requested_by_id)
    request = db.session.get(SubjectAccessRequest, request_id)
    if request is None:
        raise Gone("The request no longer exists.")
    job.progress(10, "Gathering everything held about the member")
    make_export(actor, request)
    return Outcome(
        f"The export for {request.reference} is ready to download from the request's page.",
        page_path("privacy.request_detail", reference=request.reference),
    )


@job_handler("privacy.retention", title=N_("Applying the retention schedule"))
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


@job_handler("privacy.remind", title=N_("E-mailing reminders about subject access requests"))
def remind_job(job: RunningJob) -> Outcome:
    """As ``flask members remind``: admins, once a day, about requests due within a week or overdue."""
    today = clock.today()
    sent = send_reminders(today, requests_needing_reminder(today))
    return Outcome(f"Reminded {sent.admins} admin(s) about {sent.requests} subject access request(s).")
