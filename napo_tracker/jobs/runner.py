"""Running a job: claim it, do its work inside the transaction boundary, record how it ended.

Crash safety rests on three rules:

* **A claim is one conditional UPDATE** (waiting → running, one more attempt): two workers
  handed the same message cannot both run it.
* **The work and the "done" mark commit together**, in one ``command_transaction()``, and the
  mark is fenced by the attempt number: a worker killed half-way leaves neither, and a run
  that was taken for dead and given to another worker cannot commit over it.
* **A running job shows signs of life** (a heartbeat thread, every ``JOBS_HEARTBEAT`` seconds);
  the sweep gives a job silent for three of them back to the queue, and a job that has
  used its three attempts is kept, failed, for an admin.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import click
from flask import Flask
from sqlalchemy import Table, or_, select, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..extensions import db
from ..kernel.clock import utcnow
from ..kernel.errors import DomainError
from ..kernel.transaction import command_transaction
from . import queue
from .models import MAX_ATTEMPTS, Job, JobStatus
from .registry import HANDLERS, Gone, Outcome, RunningJob

logger = logging.getLogger(__name__)

_jobs = cast(Table, Job.__table__)


def _rows(result: Any) -> int:
    """How many rows an UPDATE changed."""
    return int(cast(CursorResult[Any], result).rowcount or 0)


class _LostClaim(Exception):
    """The job row changed under a run (deleted, or given to another worker): keep none of its work."""


@dataclass(frozen=True)
class _Claim:
    id: int
    name: str
    args: list[Any]
    attempt: int
    requested_by_id: int | None


def retry_delay(app: Flask, attempts: int) -> timedelta:
    """Back-off before the next attempt: JOBS_RETRY_DELAY after the first failure, four times that after the second."""
    return timedelta(seconds=float(app.config["JOBS_RETRY_DELAY"]) * 4 ** max(attempts - 1, 0))


def describe_error(error: BaseException) -> str:
    """One line for the job's page and the admin: never a statement's parameters (they may hold members' data)."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        first_line = (str(error.orig).strip().splitlines() or [""])[0]
        return f"{type(error.orig).__name__}: {first_line}"[:500]
    text = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {text}"[:500] if text else type(error).__name__


# ---------------------------------------------------------------------------- one attempt


def run(app: Flask, job_id: int, *, due_only: bool = True, watched: bool = True) -> str | None:
    """Run one attempt of a job in a fresh app context (its own database session); the job's
    status afterwards, or None when there was nothing to run (already taken, done or deleted).
    ``watched``: write its progress as it goes (not when it runs in the request that asked for
    it, which nobody can watch). Its heartbeat is written either way.

    Never raises for the job's own failure: a refusal ends it, anything else counts as an attempt.
    """
    with app.app_context():
        claim = _claim(job_id, due_only=due_only)
        if claim is None:
            return None
        handler = HANDLERS.get(claim.name)
        if handler is None:
            return _end(claim, JobStatus.FAILED, error=f"There is no job called {claim.name!r} in this version.")
        beat = _Heartbeat(db.engine, claim.id, float(app.config["JOBS_HEARTBEAT"]))
        beat.start()
        report = _reporter(db.engine, claim.id) if watched else _not_reported
        job = RunningJob(claim.id, claim.name, claim.attempt, claim.requested_by_id, report)
        try:
            with command_transaction():
                outcome = handler.run(job, *claim.args) or Outcome()
                _mark_done(claim, outcome)
        except click.ClickException as refusal:  # command_transaction's form of a DomainError
            cause = refusal.__cause__
            if isinstance(cause, Gone):
                return _end(claim, JobStatus.CANCELLED, note=cause.message)
            message = cause.message if isinstance(cause, DomainError) else refusal.message
            return _end(claim, JobStatus.FAILED, error=message)
        except _LostClaim:
            logger.warning(
                "job %s changed while attempt %s ran (deleted, or taken over): its work was not kept",
                claim.id,
                claim.attempt,
            )
            return None
        except Exception as error:
            logger.exception("job %s (%s) failed on attempt %s", claim.id, claim.name, claim.attempt)
            return _failed_attempt(app, claim, describe_error(error))
        finally:
            beat.stop()
        return JobStatus.DONE.value


def run_inline(app: Flask, job_id: int) -> None:
    """Without Redis: run a job here and now, its attempts one after the other (no one would
    come back for a later retry)."""
    for _ in range(MAX_ATTEMPTS):
        try:
            status = run(app, job_id, due_only=False, watched=False)
        except Exception:  # the database itself failed: the job is left as it was
            logger.exception("job %s could not be run", job_id)
            return
        if status != JobStatus.QUEUED:
            return


def _claim(job_id: int, *, due_only: bool) -> _Claim | None:
    now = utcnow()
    conditions = [Job.id == job_id, Job.status == JobStatus.QUEUED.value]
    if due_only:
        conditions.append(or_(Job.run_after.is_(None), Job.run_after <= now))
    with command_transaction():
        claimed = db.session.execute(
            update(Job)
            .where(*conditions)
            .values(
                status=JobStatus.RUNNING.value,
                attempts=Job.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                run_after=None,
                progress=0,
                progress_note="",
            )
            .execution_options(synchronize_session=False)
        )
        if _rows(claimed) != 1:
            return None
        row = db.session.execute(
            select(Job.name, Job.args, Job.attempts, Job.requested_by_id).where(Job.id == job_id)
        ).one()
    return _Claim(job_id, row.name, list(row.args or []), row.attempts, row.requested_by_id)


def _fenced(claim: _Claim) -> Any:
    """An UPDATE of this job that matches only while this attempt still holds it."""
    return (
        update(Job)
        .where(Job.id == claim.id, Job.status == JobStatus.RUNNING.value, Job.attempts == claim.attempt)
        .execution_options(synchronize_session=False)
    )


def _mark_done(claim: _Claim, outcome: Outcome) -> None:
    values: dict[str, Any] = {
        "status": JobStatus.DONE.value,
        "progress": 100,
        "progress_note": "",
        "error": "",
        "result_note": outcome.note[:500],
        "finished_at": utcnow(),
    }
    if outcome.url:
        values["result_url"] = outcome.url[:500]
    if _rows(db.session.execute(_fenced(claim).values(**values))) != 1:
        raise _LostClaim()


def _end(claim: _Claim, status: JobStatus, *, error: str = "", note: str = "") -> str | None:
    """A refusal or a job not needed: ends now, for good; the key is freed so it may be asked for again."""
    with command_transaction():
        ended = db.session.execute(
            _fenced(claim).values(
                status=status.value,
                error=error[:5000],
                result_note=note[:500],
                key=None,
                finished_at=utcnow(),
            )
        )
    return status.value if _rows(ended) == 1 else None


def _failed_attempt(app: Flask, claim: _Claim, error: str) -> str | None:
    if claim.attempt >= MAX_ATTEMPTS:
        return _end(claim, JobStatus.FAILED, error=error)
    with command_transaction():
        retried = db.session.execute(
            _fenced(claim).values(
                status=JobStatus.QUEUED.value,
                error=error,
                progress=0,
                progress_note="",
                run_after=utcnow() + retry_delay(app, claim.attempt),
            )
        )
    return JobStatus.QUEUED.value if _rows(retried) == 1 else None


# ---------------------------------------------------------------------------- signs of life


def _write_aside(engine: Engine, statement: Any, what: str) -> None:
    """Write to a job's row on a connection of its own, outside the work's transaction, waiting
    at most a moment for a lock (SQLite has one writer: while the work holds it, skip)."""
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                connection.exec_driver_sql("PRAGMA busy_timeout=100")
            else:
                connection.exec_driver_sql("SET LOCAL lock_timeout = '1s'")
            try:
                connection.execute(statement)
                connection.commit()
            except SQLAlchemyError:
                connection.rollback()
                raise
            finally:
                if sqlite:  # the pool's connections keep the app's own wait
                    connection.exec_driver_sql("PRAGMA busy_timeout=10000")
    except SQLAlchemyError:
        logger.info("%s not written", what, exc_info=True)


def _reporter(engine: Engine, job_id: int) -> Callable[[int, str], None]:
    """Progress goes to the job's row at once, so its page sees it while the work goes on."""

    def report(percent: int, note: str) -> None:
        _write_aside(
            engine,
            update(_jobs)
            .where(_jobs.c.id == job_id, _jobs.c.status == JobStatus.RUNNING.value)
            .values(progress=percent, progress_note=note[:200], heartbeat_at=utcnow()),
            f"progress of job {job_id}",
        )

    return report


def _not_reported(percent: int, note: str) -> None:
    pass


class _Heartbeat(threading.Thread):
    def __init__(self, engine: Engine, job_id: int, interval: float):
        super().__init__(name=f"napo-job-{job_id}-heartbeat", daemon=True)
        self.engine, self.job_id, self.interval = engine, job_id, interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            _write_aside(
                self.engine,
                update(_jobs)
                .where(_jobs.c.id == self.job_id, _jobs.c.status == JobStatus.RUNNING.value)
                .values(heartbeat_at=utcnow()),
                f"heartbeat of job {self.job_id}",
            )

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=self.interval + 5)


# ---------------------------------------------------------------------------- the sweep


@dataclass
class SweepResult:
    taken_back: int = 0  # runs whose worker died, queued again
    given_up: int = 0  # ... or failed for good, their attempts used
    sent: int = 0  # waiting jobs whose message was missing, sent again


def sweep(app: Flask, now: datetime | None = None) -> SweepResult:
    """Take back the runs whose worker died, and send every waiting job that is due but has no
    message on its way (Redis was down, or was emptied). Run by the scheduler, often."""
    now = now or utcnow()
    result = SweepResult()
    silent_since = now - timedelta(seconds=3 * float(app.config["JOBS_HEARTBEAT"]))
    with app.app_context():
        with command_transaction():
            dead = (Job.status == JobStatus.RUNNING.value, Job.heartbeat_at < silent_since)
            result.given_up = _rows(
                db.session.execute(
                    update(Job)
                    .where(*dead, Job.attempts >= MAX_ATTEMPTS)
                    .values(
                        status=JobStatus.FAILED.value,
                        error=f"The worker running it stopped, {MAX_ATTEMPTS} times. Nothing of it was kept.",
                        key=None,
                        finished_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )
            )
            result.taken_back = _rows(
                db.session.execute(
                    update(Job)
                    .where(*dead, Job.attempts < MAX_ATTEMPTS)
                    .values(
                        status=JobStatus.QUEUED.value,
                        error="The worker running it stopped; it will be tried again. Nothing of it was kept.",
                        progress=0,
                        progress_note="",
                        run_after=None,
                    )
                    .execution_options(synchronize_session=False)
                )
            )
        if result.given_up or result.taken_back:
            logger.warning("sweep: %s dead run(s) queued again, %s failed for good", result.taken_back, result.given_up)
        with command_transaction():  # ended before Redis is asked: no snapshot held meanwhile
            due = db.session.execute(
                select(Job.id, Job.attempts)
                .where(Job.status == JobStatus.QUEUED.value, or_(Job.run_after.is_(None), Job.run_after <= now))
                .order_by(Job.id)
            ).all()
        from redis.exceptions import RedisError

        try:
            for job_id, attempts in due:
                if not queue.is_on_its_way(job_id, attempts, app) and queue.push(job_id, attempts, app):
                    result.sent += 1
        except RedisError as error:  # they wait on: the next sweep sends them
            logger.warning("sweep: Redis does not answer (%s); %s job(s) wait", error, len(due) - result.sent)
    return result
