"""Fixtures for background jobs: a publishable briefing, and a real RQ worker run in this process."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from napo_tracker.extensions import db
from napo_tracker.jobs import queue
from napo_tracker.jobs.models import Job
from tests import factories
from tests.notices.conftest import make_notice  # noqa: F401 (a fixture, for the jobs of notices)


def work(app: Flask) -> None:
    """Run RQ's own worker over the queue until it is empty, in this process (``SimpleWorker``
    does not fork, so the test sees what it did at once)."""
    from rq import SimpleWorker

    SimpleWorker([queue.queue(app)], connection=queue.connection(app)).work(burst=True)


def the_job() -> Job:
    """The one job recorded so far, as the database holds it now."""
    db.session.expire_all()
    return db.session.scalars(select(Job)).one()


@pytest.fixture
def publishable(world):
    return factories.make_publishable_briefing(world.official)
