"""A job's own page (it refreshes itself until the job ends, then offers the result) and the
admins' page of jobs, failed ones first."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template
from flask_babel import gettext
from flask_login import current_user

from ..kernel.vocabulary import Role
from ..main.health import health_check
from ..security import is_safe_redirect, roles_required
from . import bp, queue
from .models import JobStatus
from .registry import title_of
from .services import active_jobs, failed_jobs, get_job_for, recent_jobs, waiting_summary

# Seconds between the refreshes of a waiting or running job's page (a meta refresh: no script).
REFRESH_SECONDS = 2


@bp.app_template_filter("job_title")
def _job_title(name: str) -> str:
    """The job's title in the page's language, where the catalogue has it (titles are marked
    with ``N_`` where each handler is registered)."""
    return gettext(title_of(name))


@bp.route("/<id:job_id>")
def detail(job_id: int):
    """How the job is going. Once done, its own asker is taken to the result, with what was done."""
    job = get_job_for(current_user, job_id)
    mine = job.requested_by_id == current_user.id
    if job.status == JobStatus.DONE and mine and job.result_url and is_safe_redirect(job.result_url):
        flash(job.result_note or gettext("Done."), "success")
        return redirect(job.result_url)
    return render_template("jobs/detail.html", job=job, refresh=REFRESH_SECONDS if job.is_active else None)


@bp.route("/")
@roles_required(Role.ADMIN)
def index():
    """Admins: failed jobs with their errors, jobs waiting or running, and the last week's."""
    return render_template(
        "jobs/index.html",
        failed=failed_jobs(),
        active=active_jobs(),
        recent=recent_jobs(),
        summary=waiting_summary(),
        queue_state=_queue_state(),
    )


def _queue_state() -> dict[str, Any] | None:
    if not queue.is_configured():
        return None
    from redis.exceptions import RedisError

    try:
        return queue.state()
    except RedisError:
        return {"unreachable": True}


@health_check
def _queue_health() -> tuple[dict[str, Any], bool]:
    """/healthz: with Redis configured, whether it answers, and the queue's depth and oldest job."""
    if not queue.is_configured():
        return {}, True
    from redis.exceptions import RedisError

    report: dict[str, Any] = {"jobs": waiting_summary()}
    try:
        report["queue"] = queue.state()
    except RedisError:
        report["redis"] = "unreachable"
        return report, False
    report["redis"] = "ok"
    return report, True
