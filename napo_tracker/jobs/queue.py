"""Redis and RQ, and nothing else: the queue a job's message waits on for a worker.

Only the job's id travels through Redis; what it is for stays in the job table. Losing a
message (Redis down when it was sent, or emptied) loses nothing: the scheduler's sweep
sends it again. Nothing here is imported unless ``REDIS_URL`` is set, so a one-process
install needs neither redis nor rq.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

if TYPE_CHECKING:
    from redis import Redis

logger = logging.getLogger(__name__)

QUEUE_NAME = "napo"
# The one function a worker runs: it finds everything else in the job table.
ENTRY_POINT = "napo_tracker.jobs.entry.run_job"
JOB_TIMEOUT = 3600  # seconds: RQ's own limit, above every render's and import's own
_EXTENSION = "napo_redis"
# RQ's states in which a message will still reach a worker without help.
_ON_ITS_WAY = frozenset({"queued", "scheduled", "deferred"})


def is_configured(app: Flask | None = None) -> bool:
    return bool((app or current_app).config.get("REDIS_URL"))


def connection(app: Flask | None = None) -> Redis:
    """This process's connection to Redis (made once per app), with short time-outs so that a
    page never waits long on a Redis that is down."""
    app = app or current_app
    client = app.extensions.get(_EXTENSION)
    if client is None:
        from redis import Redis

        client = Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
        )
        app.extensions[_EXTENSION] = client
    return client


def rq_id(job_id: int, attempts: int) -> str:
    """The message's id in RQ: one per attempt, so a message sent twice for the same attempt is
    one message, and the message of a run taken back from a dead worker is never reused."""
    return f"napo-job-{job_id}-{attempts}"


def queue(app: Flask | None = None) -> Any:
    from rq import Queue

    return Queue(QUEUE_NAME, connection=connection(app))


def push(job_id: int, attempts: int = 0, app: Flask | None = None) -> bool:
    """Send the job's message (for its next attempt, after ``attempts``) to the workers; False
    (logged) when Redis cannot take it, and the job waits in its table for the sweep."""
    from redis.exceptions import RedisError

    try:
        queue(app).enqueue_call(
            ENTRY_POINT,
            args=(job_id,),
            job_id=rq_id(job_id, attempts),
            timeout=JOB_TIMEOUT,
            result_ttl=0,  # the outcome is in the job table
            failure_ttl=7 * 24 * 3600,
            description=f"job {job_id}",
        )
    except RedisError as error:
        logger.warning("job %s waits for Redis (%s); the scheduler will send it when Redis answers", job_id, error)
        return False
    return True


def is_on_its_way(job_id: int, attempts: int = 0, app: Flask | None = None) -> bool:
    """Whether RQ holds a message for this job's next attempt that a worker will still pick up."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job as RQJob

    try:
        status = RQJob.fetch(rq_id(job_id, attempts), connection=connection(app)).get_status()
    except NoSuchJobError:
        return False
    return status is not None and str(getattr(status, "value", status)) in _ON_ITS_WAY


def state(app: Flask | None = None) -> dict[str, Any]:
    """Redis's side of the queue, for /healthz and the admin page. Raises RedisError when Redis is down."""
    from rq import Worker

    client = connection(app)
    client.ping()
    rq_queue = queue(app)
    oldest = None
    first = rq_queue.get_job_ids(0, 1)
    if first:
        from rq.job import Job as RQJob

        enqueued_at = RQJob.fetch(first[0], connection=client).enqueued_at
        if enqueued_at is not None:
            oldest = (datetime.now(UTC) - enqueued_at.replace(tzinfo=enqueued_at.tzinfo or UTC)).total_seconds()
    return {
        "depth": rq_queue.count,
        "oldest_age_seconds": None if oldest is None else round(max(oldest, 0.0), 1),
        "workers": len(Worker.all(queue=rq_queue)),
    }
