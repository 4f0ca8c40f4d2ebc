"""A change refused half-way leaves nothing behind: not through a page, a command or a service.

Each service here has already written (flushed) a row when the failure comes; the
transaction boundary must take that row back out.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.extensions import db
from napo_tracker.kernel import clock
from napo_tracker.testimonies import cli, services
from napo_tracker.testimonies.models import FollowUp, Testimony

from .. import factories
from ..helpers import form_tokens, submit
from .conftest import form_data

REFUSED = "Refused half-way, after the row was written."


def _count(model: type[Any]) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def refuse_after_insert() -> Iterator[list[int]]:
    """Every flush that inserts a testimony is refused once the INSERT has run; the list
    collects the ids the database gave, proving the row was written."""
    written: list[int] = []

    def refuse(session: Session, _context: Any) -> None:
        for record in session.new:
            if isinstance(record, Testimony):
                written.append(record.id)
                raise services.TestimonyError(REFUSED)

    event.listen(Session, "after_flush", refuse)
    try:
        yield written
    finally:
        event.remove(Session, "after_flush", refuse)


def test_a_submission_refused_half_way_leaves_no_testimony_via_the_page(client, world, refuse_after_insert):
    response = submit(client, "/testimony", form_data())
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert REFUSED in html and 'id="text-error"' in html
    assert refuse_after_insert  # the row had been written
    assert _count(Testimony) == 0
    assert "shown once" in client.get("/testimony/receipt").get_data(as_text=True)  # no code was handed out


def test_a_submission_refused_half_way_leaves_no_testimony_via_the_service(app, world, refuse_after_insert):
    with pytest.raises(services.TestimonyError, match="half-way"):
        services.submit_testimony(text=form_data()["text"])
    assert refuse_after_insert
    db.session.rollback()
    assert _count(Testimony) == 0


@pytest.fixture
def audit_refuses(monkeypatch) -> list[int]:
    """The audit entry that follows a question is refused; the list collects the flushed
    question's id. (An official's look at the page is audited too: that one still stands.)"""
    flushed: list[int] = []
    real = services.record

    def refuse(actor: Any, action: Any, target: Any = None, **details: Any) -> Any:
        if action == AuditAction.TESTIMONY_VIEWED:
            return real(actor, action, target, **details)
        flushed.extend(f.id for f in db.session.scalars(select(FollowUp)))
        raise services.TestimonyError(REFUSED)

    monkeypatch.setattr(services, "record", refuse)
    return flushed


def test_a_question_refused_half_way_leaves_no_row_via_the_page(client, world, login_as, audit_refuses):
    testimony = factories.make_testimony()
    login_as(world.official)
    tokens = form_tokens(client.get(f"/testimonies/{testimony.reference}").data, "ask-")
    audited = _count(AuditEvent)
    response = client.post(
        f"/testimonies/{testimony.reference}/question",
        data={**tokens, "ask-question": "Is this still happening?", "ask-submit": "y"},
    )
    assert response.status_code == 400
    assert REFUSED in response.get_data(as_text=True)
    assert audit_refuses  # the question had been written
    assert _count(FollowUp) == 0 and _count(AuditEvent) == audited


def test_a_question_refused_half_way_leaves_no_row_via_the_service(app, world, audit_refuses):
    testimony = factories.make_testimony()
    audited = _count(AuditEvent)
    with pytest.raises(services.TestimonyError, match="half-way"):
        services.ask_follow_up(world.official, testimony, "Is this still happening?")
    assert audit_refuses
    db.session.rollback()
    assert _count(FollowUp) == 0 and _count(AuditEvent) == audited


def test_a_purge_that_fails_half_way_erases_nothing(app, world, monkeypatch):
    decided_on = clock.today() - timedelta(days=40)
    first, second = factories.make_testimony(), factories.make_testimony()
    for testimony in (first, second):
        services.approve(world.official, testimony, "The public words of this testimony.", today=decided_on)
    db.session.commit()
    erased: list[int] = []

    def erase_then_fail(actor: Any, testimony: Testimony, today: Any = None) -> Testimony:
        if erased:
            raise services.TestimonyError("The second erasure was refused.")
        erased.append(testimony.id)
        return services.erase_original(actor, testimony, today)

    monkeypatch.setattr(cli, "erase_original", erase_then_fail)
    result = app.test_cli_runner().invoke(args=["testimonies", "purge"])
    assert result.exit_code == 1 and "The second erasure was refused." in result.output
    assert erased == [first.id]
    db.session.expire_all()
    assert all(db.session.get_one(Testimony, t.id).original_text for t in (first, second))
