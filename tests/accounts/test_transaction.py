"""An account or region change that fails half-way leaves nothing behind."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from napo_tracker.accounts.models import User
from napo_tracker.audit.models import AuditEvent
from napo_tracker.extensions import db
from napo_tracker.regions.models import Region

from ..helpers import count, submit


@pytest.fixture
def audit_fails(app):
    """The audit entry written after the record was flushed cannot be stored."""

    def refuse(session, flush_context, instances):
        if any(isinstance(obj, AuditEvent) for obj in session.new):
            raise RuntimeError("the audit log is unavailable")

    event.listen(db.session, "before_flush", refuse)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    yield
    event.remove(db.session, "before_flush", refuse)


def test_a_user_whose_audit_entry_fails_is_not_created(client, world, login_as, audit_fails):
    login_as(world.admin)
    before = count(User)
    response = submit(
        client,
        "/admin/users/new",
        {
            "email": "half.made@example.org",
            "display_name": "Half made",
            "role": "official",
            "password": "amber ferry window 63",
        },
    )
    assert response.status_code == 500
    assert count(User) == before
    assert count(User, User.email == "half.made@example.org") == 0


def test_a_region_whose_audit_entry_fails_is_not_created(client, world, login_as, audit_fails):
    login_as(world.admin)
    before = count(Region)
    response = submit(client, "/regions/new", {"name": "North East"}, form_url="/regions/")
    assert response.status_code == 500
    assert count(Region) == before
