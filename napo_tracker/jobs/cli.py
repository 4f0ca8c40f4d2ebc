"""``flask jobs worker`` and ``flask jobs scheduler``: the two processes beside the web app."""

from __future__ import annotations

import logging
import os
import time

import click
from flask import Flask, current_app

from ..extensions import db
from . import bp, queue
from .schedule import run_scheduler

logger = logging.getLogger(__name__)

NO_REDIS = (
    "NAPO_REDIS_URL is not set. Without Redis, jobs run in the web process as soon as they are "
    "asked for, and regular ones from cron (README: Production); no worker or scheduler is needed."
)


def _app_with_redis() -> Flask:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if not queue.is_configured(app):
        raise click.ClickException(NO_REDIS)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return app


@bp.cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty, instead of waiting for more.")
@click.option("--name", default=None, help="The worker's name in Redis (default: host and process id).")
def worker_command(burst: bool, name: str | None) -> None:
    """Run jobs from the queue: publishing, letters, imports, regular runs. Run one or more."""
    from redis.exceptions import RedisError
    from rq import Worker

    app = _app_with_redis()

    def forget_inherited_connections() -> None:
        # Each job runs in a child forked from this process: its database connections are the
        # parent's sockets, never to be used (or closed) by the child.
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)

    os.register_at_fork(after_in_child=forget_inherited_connections)
    restarts = 0
    while True:
        worker_name = name if restarts == 0 or name is None else f"{name}.{restarts}"
        worker = Worker([queue.queue(app)], connection=queue.connection(app), name=worker_name)
        try:
            worker.work(burst=burst, with_scheduler=False, logging_level="INFO")
            return
        except RedisError as error:
            if burst:
                raise click.ClickException(f"Redis went away: {error}") from error
            # RQ rides out a short loss of Redis, but not every one: wait for it, then start again.
            logger.warning("Redis went away (%s): the worker starts again once it answers", error)
            _wait_for_redis(app)
            restarts += 1


def _wait_for_redis(app: Flask) -> None:
    from redis.exceptions import RedisError

    delay = 1.0
    while True:
        time.sleep(delay)
        try:
            queue.connection(app).ping()
            return
        except RedisError:
            delay = min(delay * 2, 30.0)


@bp.cli.command("scheduler")
def scheduler_command() -> None:
    """Start the regular jobs on time (JOBS_SCHEDULE) and send back jobs whose worker died. Run one."""
    run_scheduler(_app_with_redis())
