"""A service that fails half-way leaves nothing behind: no served status, no stored letter, no audit row.

Serving a notice sets its status and due date, and here the letter fails only after those
changes have been flushed to the database: the transaction boundary must undo them, through
the web request and through the service followed by a rollback.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from napo_tracker.audit.models import AuditEvent
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today
from napo_tracker.notices import services
from napo_tracker.notices.models import ForeseeabilityNotice
from napo_tracker.pdf import PDFRenderError

from ..helpers import submit


@pytest.fixture
def letter_fails_after_flush(monkeypatch):
    """The letter renderer fails once the served status is already in the database (flushed)."""
    seen: list[str | None] = []

    def failing_render(template: str, context: dict[str, Any]) -> bytes:
        db.session.flush()
        seen.append(
            db.session.scalar(
                select(ForeseeabilityNotice.status).where(ForeseeabilityNotice.reference == context["reference"])
            )
        )
        raise PDFRenderError("The document could not be rendered (test).")

    monkeypatch.setattr(services, "render_pdf", failing_render)
    return seen


def assert_still_a_draft(notice_id: int) -> None:
    db.session.expire_all()
    stored = db.session.get_one(ForeseeabilityNotice, notice_id)
    assert stored.status == "draft"
    assert stored.served_on is None and stored.response_due_on is None
    assert stored.letter_pdf is None and stored.letter_sha256 is None and stored.letter_frozen_at is None
    served_events = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "notice:served")
    assert db.session.scalar(served_events) == 0


def test_a_letter_that_fails_through_the_request_leaves_the_notice_a_draft(
    client, world, login_as, make_notice, letter_fails_after_flush
):
    notice = make_notice()
    login_as(world.london_rep)
    response = submit(
        client,
        f"/notices/{notice.reference}/serve",
        {"serve-served_on": today().isoformat()},
        form_url=f"/notices/{notice.reference}",
        field="serve-csrf_token",
    )
    # The letter is made by a job (here, with no Redis, at once): its page says why it failed.
    assert response.status_code == 302 and response.headers["Location"].startswith("/jobs/")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "The letter could not be made, so the notice was not served" in page.get_data(as_text=True)
    assert letter_fails_after_flush == ["served"]  # the change had reached the database
    assert_still_a_draft(notice.id)


def test_a_letter_that_fails_in_the_service_is_undone_by_the_rollback(world, make_notice, letter_fails_after_flush):
    notice = make_notice()
    with pytest.raises(services.NoticeError, match="not served") as raised:
        services.serve_notice(world.london_rep, notice, date(2026, 3, 2), on=date(2026, 3, 2))
    assert raised.value.field == "served_on"
    assert letter_fails_after_flush == ["served"]
    db.session.rollback()
    assert_still_a_draft(notice.id)
