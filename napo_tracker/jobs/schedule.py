"""The scheduler: starts the regular jobs on time, and sweeps the job table.

One process (``flask jobs scheduler``). RQ's cron scheduler keeps the timetable
(``JOBS_SCHEDULE``: cron lines read in the union's time, Europe/London) and puts each
regular job on the queue when it is due; every ``JOBS_HEARTBEAT`` seconds the sweep takes
back jobs whose worker died and sends jobs whose message never reached Redis. While Redis
is down it keeps trying: nothing due is lost, it is started once Redis answers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from typing import Any

from flask import Flask

from ..kernel.clock import UNION_TIME_ZONE
from ..kernel.errors import ConfigurationError
from . import queue
from .entry import start_scheduled
from .registry import HANDLERS
from .runner import sweep

logger = logging.getLogger(__name__)


def schedule_of(app: Flask) -> dict[str, str]:
    """The regular jobs and their cron lines; an unknown job or a malformed line is refused."""
    from croniter import croniter

    schedule = app.config.get("JOBS_SCHEDULE") or {}
    if not isinstance(schedule, dict):
        raise ConfigurationError('JOBS_SCHEDULE must map job names to cron lines, e.g. {"notices.remind": "0 7 * * *"}')
    lines: dict[str, str] = {}
    for name, line in schedule.items():
        if not line:
            continue  # switched off
        if name not in HANDLERS:
            known = ", ".join(sorted(HANDLERS))
            raise ConfigurationError(f"JOBS_SCHEDULE names {name!r}, which is not a job (there are: {known})")
        if not isinstance(line, str) or not croniter.is_valid(line):
            raise ConfigurationError(f"JOBS_SCHEDULE[{name!r}] = {line!r} is not a cron line (e.g. '0 7 * * *')")
        lines[name] = line
    return lines


def _use_union_time() -> None:
    """RQ reads cron lines in the process's local time: make that the union's."""
    os.environ["TZ"] = str(UNION_TIME_ZONE)
    time.tzset()


def run_scheduler(app: Flask, stop: threading.Event | None = None) -> None:
    """Run until SIGTERM or SIGINT (or ``stop`` is set)."""
    from redis.exceptions import RedisError
    from rq.cron import CronScheduler

    lines = schedule_of(app)
    _use_union_time()
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    scheduler = CronScheduler(connection=queue.connection(app), logging_level=logging.WARNING)
    for name, line in lines.items():
        scheduler.register(
            start_scheduled, queue.QUEUE_NAME, args=(name,), cron=line, name=name, result_ttl=0, job_timeout=600
        )
        logger.info("scheduled %s at %r (%s)", name, line, UNION_TIME_ZONE)
    heartbeat = float(app.config["JOBS_HEARTBEAT"])
    registered = redis_down = False
    while not stop.is_set():
        try:
            if not registered:
                scheduler.register_birth()
                registered = True
            scheduler.enqueue_jobs()
            scheduler.heartbeat()
            sweep(app)
            if redis_down:
                logger.warning("Redis answers again: the scheduler carries on")
                redis_down = False
        except RedisError as error:
            if not redis_down:
                logger.warning("Redis does not answer (%s): regular jobs wait until it does", error)
                redis_down = True
        except Exception:  # the database away, say: keep the timetable, try again shortly
            logger.exception("the scheduler's round failed; trying again")
        stop.wait(min(_sleep_for(scheduler), heartbeat))
    if registered:
        with contextlib.suppress(RedisError):
            scheduler.register_death()


def _sleep_for(scheduler: Any) -> float:
    return max(float(scheduler.calculate_sleep_interval()), 0.05)
