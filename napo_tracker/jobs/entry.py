"""The functions RQ calls on a worker. They carry ids only; everything else is in the job table.

They run inside ``flask jobs worker``, which holds the app (each job's work horse is forked
from it, app context and all); a plain ``rq worker`` has no app and is refused.
"""

from __future__ import annotations

from flask import Flask, current_app, has_app_context

from ..kernel.clock import utcnow
from ..kernel.transaction import command_transaction
from .runner import run
from .services import enqueue


def the_app() -> Flask:
    if not has_app_context():
        raise RuntimeError("napo-tracker's jobs run in `flask --app napo_tracker jobs worker`, not a bare `rq worker`")
    return current_app._get_current_object()  # type: ignore[attr-defined]


def run_job(job_id: int) -> None:
    """One attempt at a job: the message every enqueued job sends."""
    run(the_app(), job_id)


def start_scheduled(name: str) -> None:
    """The scheduler's tick for a regular job: record it (once per minute, however many
    schedulers ticked) and send it to the workers."""
    app = the_app()
    tick = utcnow().replace(second=0, microsecond=0)
    with app.app_context(), command_transaction():
        enqueue(name, key=f"{name}@{tick:%Y-%m-%dT%H:%M}Z", subject="")
