"""Publishing that fails half-way leaves nothing behind: no version, no stored PDF, still a draft.

Publishing adds the frozen version (its PDF bytes are stored in the row), marks the briefing
published and counts the bank questions used, flushes all that, and only then writes its audit
entry. Here the audit entry fails after the flush: the transaction boundary must undo every
change, through the web request and through the service followed by a rollback.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.briefings import services as svc
from napo_tracker.briefings.models import Briefing, BriefingVersion, Question
from napo_tracker.extensions import db
from napo_tracker.jobs.models import Job
from tests.helpers import submit

from .conftest import saved


def _count(stmt: Any) -> int:
    return db.session.scalar(stmt) or 0


def _versions_of(briefing_id: int) -> int:
    return _count(select(func.count()).select_from(BriefingVersion).where(BriefingVersion.briefing_id == briefing_id))


@pytest.fixture
def audit_fails_after_flush(monkeypatch):
    """The publishing audit entry fails once the version row is in the database (flushed);
    returns how many versions the database held at that moment."""
    seen: list[int] = []
    real_record = svc.record

    def failing_record(actor: Any, action: AuditAction, target: Any = None, **details: Any) -> Any:
        if action != AuditAction.BRIEFING_PUBLISHED:
            return real_record(actor, action, target, **details)
        seen.append(_versions_of(target.id))
        raise svc.BriefingError("The audit log could not be written (test).")

    monkeypatch.setattr(svc, "record", failing_record)
    return seen


def assert_still_a_draft(briefing_id: int, version: int) -> None:
    db.session.expire_all()
    briefing = saved(Briefing, briefing_id)
    assert briefing.status == "draft" and briefing.draft_version == 1 and briefing.version == version
    assert _versions_of(briefing_id) == 0
    assert _count(select(func.count()).select_from(BriefingVersion).where(BriefingVersion.pdf.is_not(None))) == 0
    assert _count(select(func.sum(Question.times_used))) == 0
    assert _count(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "briefing:published")) == 0


def test_publishing_that_fails_through_the_request_leaves_a_draft(
    client, login_as, world, full_briefing, audit_fails_after_flush
):
    login_as(world.official)
    version = full_briefing.version
    url = f"/briefings/{full_briefing.reference}"
    response = submit(client, f"{url}/publish", {"expected_version": version}, form_url=url, follow_redirects=True)
    assert response.status_code == 200
    assert b"The audit log could not be written (test)." in response.data
    assert audit_fails_after_flush == [1]  # the version had reached the database
    assert_still_a_draft(full_briefing.id, version)


def test_publishing_that_fails_in_the_service_is_undone_by_the_rollback(world, full_briefing, audit_fails_after_flush):
    version = full_briefing.version
    with pytest.raises(svc.BriefingError, match="audit log could not be written"):
        svc.publish(world.official, full_briefing)
    assert audit_fails_after_flush == [1]
    db.session.rollback()
    assert_still_a_draft(full_briefing.id, version)


def test_an_unexpected_failure_in_the_job_is_rolled_back_too(client, login_as, world, full_briefing, monkeypatch):
    """Not a refusal the page can explain: each of the job's three attempts fails and is rolled
    back; the job is kept, failed, with its error, and the briefing is still a draft."""
    login_as(world.official)
    version = full_briefing.version
    real_record = svc.record

    def broken_record(actor: Any, action: AuditAction, target: Any = None, **details: Any) -> Any:
        if action == AuditAction.BRIEFING_PUBLISHED:
            raise RuntimeError("the disk is full")
        return real_record(actor, action, target, **details)

    monkeypatch.setattr(svc, "record", broken_record)
    url = f"/briefings/{full_briefing.reference}"
    response = submit(client, f"{url}/publish", {"expected_version": version}, form_url=url)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert b"It could not be done" in page.data and b"RuntimeError: the disk is full" in page.data
    job = db.session.scalars(select(Job)).one()
    assert (job.status, job.attempts, job.key) == ("failed", 3, None)
    assert_still_a_draft(full_briefing.id, version)
