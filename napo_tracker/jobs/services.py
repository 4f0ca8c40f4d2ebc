"""Asking for a job, and reading how it goes.

``enqueue(name, *args)`` records the job in the current transaction and leaves the commit
to the caller, like every service. Only once that transaction has committed is the job
handed on — to Redis for a worker when ``REDIS_URL`` is set, otherwise run here and now — so
a worker never sees a job whose request was rolled back, and a rolled-back request leaves
no job behind.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..kernel.clock import utcnow
from ..kernel.transaction import after_commit
from . import queue
from .models import Job, JobStatus
from .registry import HANDLERS
from .runner import run_inline


def enqueue(
    name: str,
    *args: Any,
    requested_by: Any = None,
    subject: str = "",
    key: str | None = None,
    result_url: str | None = None,
) -> Job:
    """Record a job ``name(*args)`` and have it run once this transaction commits.

    ``args`` are ids, numbers and ISO dates (they are stored as JSON). A ``key`` makes the
    request idempotent: while a job with the same key is waiting, running or done, that job
    is returned and nothing new is recorded (so a second click on Publish makes one PDF) —
    unless its run has died unnoticed (no scheduler without Redis), when it is ended and the
    work asked for anew. ``result_url`` is the page the job is about, offered when it ends.
    """
    if name not in HANDLERS:
        raise ValueError(f"there is no job called {name!r}")
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if key is not None:
        existing = db.session.scalar(select(Job).where(Job.key == key))
        if existing is not None and not _end_if_dead(app, existing):
            if existing.status == JobStatus.QUEUED:  # its message may be lost: sending it again is harmless
                existing_id = existing.id
                after_commit(lambda: _hand_on(app, existing_id))
            return existing
    authenticated = requested_by is not None and getattr(requested_by, "is_authenticated", False)
    job = Job(
        name=name,
        args=list(args),
        subject=subject[:120],
        key=key,
        status=JobStatus.QUEUED.value,
        result_url=result_url,
        requested_by_id=requested_by.id if authenticated else None,
        requested_by_label=requested_by.email if authenticated else "",
    )
    try:
        with db.session.begin_nested():  # the same key recorded at the same moment by another request
            db.session.add(job)
    except IntegrityError:
        existing = db.session.scalar(select(Job).where(Job.key == key))
        if existing is None:
            raise
        return existing
    job_id = job.id
    after_commit(lambda: _hand_on(app, job_id))
    return job


def _end_if_dead(app: Flask, job: Job) -> bool:
    """A run silent for three heartbeats died with its process: end it (nothing of it was
    kept) and free its key. True when it was ended."""
    silent_since = utcnow() - timedelta(seconds=3 * float(app.config["JOBS_HEARTBEAT"]))
    beat = job.heartbeat_at
    if job.status != JobStatus.RUNNING or beat is None:
        return False
    if beat.tzinfo is None:  # SQLite hands back naive UTC
        beat = beat.replace(tzinfo=silent_since.tzinfo)
    if beat >= silent_since:
        return False
    job.status = JobStatus.FAILED.value
    job.error = "The process running it stopped; it was asked for again. Nothing of it was kept."
    job.key = None
    job.finished_at = utcnow()
    db.session.flush()
    return True


def _hand_on(app: Flask, job_id: int) -> None:
    if queue.is_configured(app):
        queue.push(job_id, 0, app)
    else:
        run_inline(app, job_id)


def within_the_minute(key: str) -> str:
    """A job's key that a second click makes again only a minute later: asked twice at once, one job."""
    return f"{key}:{utcnow():%Y-%m-%dT%H:%M}"


def page_path(endpoint: str, **values: Any) -> str:
    """The path of one of the app's pages, without a request (a worker has none): a job's result."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc or "localhost", script_name=base.path or "/")
    return adapter.build(endpoint, values)


# ---------------------------------------------------------------------------- reading


def may_see(user: Any, job: Job) -> bool:
    """A job is shown to the person who asked for it, and to admins (who see the regular ones too)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_admin", False):
        return True
    return job.requested_by_id is not None and job.requested_by_id == user.id


def get_job_for(user: Any, job_id: int) -> Job:
    """The one way a page opens a job: someone else's is not found (404), the same as a missing one."""
    job = db.session.get(Job, job_id)
    if job is None or not may_see(user, job):
        abort(404)
    return job


def failed_jobs(limit: int = 100) -> list[Job]:
    """Jobs that failed for good, newest first: kept for an admin, with their error."""
    stmt = select(Job).where(Job.status == JobStatus.FAILED.value).order_by(Job.finished_at.desc(), Job.id.desc())
    return list(db.session.scalars(stmt.limit(limit)))


def active_jobs(limit: int = 100) -> list[Job]:
    stmt = select(Job).where(Job.status.in_((JobStatus.QUEUED.value, JobStatus.RUNNING.value))).order_by(Job.id)
    return list(db.session.scalars(stmt.limit(limit)))


def recent_jobs(days: int = 7, limit: int = 100) -> list[Job]:
    """Jobs that ended well (or were not needed) lately."""
    stmt = (
        select(Job)
        .where(
            Job.status.in_((JobStatus.DONE.value, JobStatus.CANCELLED.value)),
            Job.finished_at >= utcnow() - timedelta(days=days),
        )
        .order_by(Job.finished_at.desc(), Job.id.desc())
    )
    return list(db.session.scalars(stmt.limit(limit)))


def waiting_summary() -> dict[str, Any]:
    """The job table's side of the queue: how many jobs wait to run, how long the oldest has
    waited (seconds), how many run now and how many failed for good."""
    now = utcnow()
    due = (Job.status == JobStatus.QUEUED.value, or_(Job.run_after.is_(None), Job.run_after <= now))
    waiting, oldest = db.session.execute(select(func.count(), func.min(Job.created_at)).where(*due)).one()
    counts = dict(
        db.session.execute(
            select(Job.status, func.count())
            .where(Job.status.in_((JobStatus.RUNNING.value, JobStatus.FAILED.value)))
            .group_by(Job.status)
        ).all()
    )
    if oldest is not None and oldest.tzinfo is None:  # SQLite hands back naive UTC
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return {
        "waiting": waiting,
        "oldest_waiting_seconds": None if oldest is None else round(max((now - oldest).total_seconds(), 0.0), 1),
        "running": counts.get(JobStatus.RUNNING.value, 0),
        "failed": counts.get(JobStatus.FAILED.value, 0),
    }
