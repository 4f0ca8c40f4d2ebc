"""The audit log: append-only, written by one helper, readable by admins and officials."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, update

from napo_tracker.audit.models import AuditAction, AuditEvent, record
from napo_tracker.extensions import db

from .helpers import count


def _count() -> int:
    return count(AuditEvent)


def test_record_names_actor_target_and_details(world):
    entry = record(world.admin, AuditAction.REGION_CHANGED, world.london, old_name="London", name="London", empty=None)
    db.session.commit()
    assert (entry.actor_id, entry.actor_label) == (world.admin.id, "admin@example.org")
    assert (entry.target_type, entry.target_ref) == ("regions", str(world.london.id))
    assert entry.details == {"old_name": "London", "name": "London"}
    assert entry.occurred_at is not None
    anonymous = record(None, AuditAction.TESTIMONY_SUBMITTED, ("testimonies", "TST-2026-0001"))
    db.session.commit()
    assert (anonymous.actor_id, anonymous.actor_label, anonymous.target_ref) == (None, "anonymous", "TST-2026-0001")


def test_audit_events_cannot_be_changed_or_deleted(world):
    entry = db.session.scalars(select(AuditEvent)).first()
    assert entry is not None
    before = _count()
    entry.action = "user:nothing-happened"
    with pytest.raises(PermissionError, match="append-only"):
        db.session.flush()
    db.session.rollback()

    db.session.delete(db.session.scalars(select(AuditEvent)).first())
    with pytest.raises(PermissionError, match="append-only"):
        db.session.flush()
    db.session.rollback()

    with pytest.raises(PermissionError, match="append-only"):
        db.session.execute(update(AuditEvent).values(action="x"))
    db.session.rollback()
    with pytest.raises(PermissionError, match="append-only"):
        db.session.execute(delete(AuditEvent))
    db.session.rollback()
    assert _count() == before
    assert "user:nothing-happened" not in db.session.scalars(select(AuditEvent.action)).all()


def test_audit_page_is_for_admins_and_officials(client, world, login_as):
    for user, status in ((world.admin, 200), (world.official, 200), (world.london_rep, 403)):
        login_as(user)
        response = client.get("/audit/")
        assert response.status_code == status, user.email
        if status == 200:
            assert "user:created" in _rows(response)


def _rows(response) -> str:
    html = response.data.decode()
    return html[html.index("<tbody>") : html.index("</tbody>")]


def test_audit_page_filters(client, world, login_as):
    record(world.admin, AuditAction.REGION_CHANGED, world.london, name="London")
    record(world.official, AuditAction.LOGIN, world.official)
    db.session.commit()
    login_as(world.admin)

    by_action = client.get("/audit/?action=region:")
    assert "region:changed" in _rows(by_action) and "user:created" not in _rows(by_action)
    assert b"1 events" in by_action.data

    by_actor = client.get("/audit/?actor=OFFICIAL@")
    assert "auth:login" in _rows(by_actor) and "region:changed" not in _rows(by_actor)

    by_target = client.get(f"/audit/?target={world.london.id}")
    assert "region:changed" in _rows(by_target)

    today = datetime.now(UTC).date().isoformat()
    assert "auth:login" in _rows(client.get(f"/audit/?since={today}&until={today}&actor=official"))
    assert "No events match." in _rows(client.get("/audit/?since=2001-01-01&until=2001-12-31"))
    assert "No events match." in _rows(client.get("/audit/?actor=%25"))  # wildcards are literal

    for bad in ("since=yesterday", "until=2026-13-45", "since=" + "9" * 10_000):
        response = client.get(f"/audit/?{bad}")
        assert response.status_code == 400, bad
        assert b"Give a date as YYYY-MM-DD" in response.data

    nothing = client.get("/audit/?actor=<script>alert(1)</script>&target=" + "x" * 10_000 + "&page=-5")
    assert nothing.status_code == 200
    assert b"No events match." in nothing.data
    assert b"<script>alert(1)" not in nothing.data
    assert client.get("/audit/?page=abc").status_code == 200
