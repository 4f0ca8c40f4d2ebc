"""Briefings' background jobs: publishing (the PDF render takes a while), and the daily e-mail
to officials about published versions that quote a withdrawn testimony."""

from __future__ import annotations

from ..accounts.services import acting_user
from ..extensions import db
from ..jobs.registry import Gone, Outcome, RunningJob, job_handler
from ..jobs.services import page_path
from ..kernel.labels import N_
from . import services as svc
from .models import Briefing
from .withdrawals import notify_officials, versions_to_tell

# The share of the work done as each step of ``publish`` starts: rendering the PDF is most of it.
_PROGRESS = {"Checking the briefing": 5, "Laying out the document": 15, "Rendering the PDF": 35, "Storing the PDF": 90}


@job_handler("briefings.publish", title=N_("Publishing"))
def publish_job(job: RunningJob, briefing_id: int, expected_version: int, language: str = "en") -> Outcome:
    """Publish the draft as it stood when it was asked for: if it has changed since, nothing is
    published and the person is told (the briefing's version check)."""
    actor = acting_user(job.requested_by_id)
    briefing = db.session.get(Briefing, briefing_id)
    if briefing is None:
        raise Gone("The briefing no longer exists.")
    version = svc.publish(
        actor,
        briefing,
        expected_version=expected_version,
        on_step=lambda name: job.progress(_PROGRESS.get(name, 50), name),
        language=language,
    )
    return Outcome(
        f"{briefing.reference} version {version.number} published. Its PDF is now frozen.",
        page_path("briefings.detail", ref=briefing.reference),
    )


@job_handler("briefings.notify", title=N_("E-mailing officials about withdrawn testimonies"))
def notify_job(job: RunningJob) -> Outcome:
    """As ``flask briefings notify``: officials and admins told once about each version marked."""
    told = notify_officials(versions_to_tell())
    return Outcome(f"E-mailed {told.people} official(s) and admin(s) about {told.versions} version(s).")
