"""Notifications' background jobs: e-mails waiting to go, the daily digest, and telling whoever
asked for a job that it ended."""

from __future__ import annotations

from flask_babel import gettext

from ..accounts.models import User
from ..extensions import db
from ..jobs.registry import EndedJob, Outcome, RunningJob, job_handler, on_job_end, title_of
from ..kernel.clock import today
from ..kernel.labels import N_
from .models import NotificationKind
from .services import collect_daily, deliver_pending, notify, send_digests


@job_handler("notifications.send", title=N_("E-mailing notifications"))
def send_job(job: RunningJob) -> Outcome:
    """The notifications waiting to be e-mailed singly (asked for after each request that made
    some, and on the schedule, which picks up any a mail server refused)."""
    done = deliver_pending(progress=lambda _n: job.progress(50, "Sending"))
    return Outcome(f"Sent {done.emails} e-mail(s) covering {done.notifications} notification(s).")


@job_handler("notifications.digest", title=N_("The daily notifications"))
def digest_job(job: RunningJob) -> Outcome:
    """Once a day (``flask notifications digest``): what the domains tell daily (testimonies
    waiting, members' answers), then single e-mails still waiting, then each digest."""
    day = today()
    told = collect_daily(day)
    job.progress(30, "Sending")
    single = deliver_pending()
    digests = send_digests(day)
    return Outcome(
        f"{told} notification(s) made; sent {single.emails} single e-mail(s) and {digests.emails} digest(s)."
    )


@on_job_end
def tell_who_asked(ended: EndedJob) -> None:
    """The person who asked for a job (a briefing published, a notice served) is told it ended."""
    person = db.session.get(User, ended.requested_by_id) if ended.requested_by_id else None
    what = title_of(ended.name) + (f" ({ended.subject})" if ended.subject else "")
    notify(
        person,
        NotificationKind.JOB_FINISHED,
        gettext("%(what)s: finished.", what=what)
        if ended.status == "done"
        else gettext("%(what)s: failed.", what=what),
        reference=ended.subject,
        url=f"/jobs/{ended.id}",
        key=f"job:{ended.id}",
        soon=False,  # e-mailed by the next `notifications send` (every ten minutes on the schedule)
    )
