"""Accountable access: every look at a member's records is audited, an attempt on another
region's record too (a 404 all the same), and the database keeps the audit log append-only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from napo_tracker.audit.models import AuditAction, AuditDeletionPermit, AuditEvent, delete_entries_before
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today
from tests.factories import make_case, make_member, make_notice, make_testimony
from tests.helpers import count


def _entries(action: AuditAction, ref: str | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == action.value)
    if ref is not None:
        stmt = stmt.where(AuditEvent.target_ref == ref)
    return list(db.session.scalars(stmt.order_by(AuditEvent.id)))


def test_every_view_of_a_case_member_notice_or_testimony_is_audited(app, world, client, login_as):
    member = make_member(world.london_rep, world.london)
    case = make_case(world.london_rep, world.london, member_id=member.id)
    notice = make_notice(world.london_rep, world.london)
    testimony = make_testimony()

    login_as(world.london_rep)
    assert client.get(f"/cases/{case.reference}").status_code == 200
    assert client.get(f"/notices/{notice.reference}").status_code == 200
    assert client.get(f"/cases/members/{member.id}").status_code == 200
    login_as(world.official)
    assert client.get(f"/cases/members/{member.id}").status_code == 200  # the pseudonym only: audited all the same
    assert client.get(f"/testimonies/{testimony.reference}").status_code == 200

    assert [e.actor_id for e in _entries(AuditAction.CASE_VIEWED, case.reference)] == [world.london_rep.id]
    assert [e.actor_id for e in _entries(AuditAction.NOTICE_VIEWED, notice.reference)] == [world.london_rep.id]
    assert [e.actor_id for e in _entries(AuditAction.MEMBER_VIEWED, member.pseudonym)] == [world.london_rep.id]
    assert [e.actor_id for e in _entries(AuditAction.MEMBER_PAGE_VIEWED, member.pseudonym)] == [world.official.id]
    assert [e.actor_id for e in _entries(AuditAction.TESTIMONY_VIEWED, testimony.reference)] == [world.official.id]


def test_a_members_own_look_at_their_testimony_is_not_audited(app, world, client):
    from tests.factories import make_testimony_with_code
    from tests.helpers import submit

    _testimony, code = make_testimony_with_code()
    before = count(AuditEvent)
    assert submit(client, "/testimony/status", {"code": code}).status_code == 200
    assert count(AuditEvent) == before


@pytest.mark.parametrize("kind", ["case", "notice", "member"])
def test_an_attempt_on_another_regions_record_is_a_404_and_is_audited(app, world, client, login_as, kind):
    member = make_member(world.wales_rep, world.wales)
    case = make_case(world.wales_rep, world.wales, member_id=member.id)
    notice = make_notice(world.wales_rep, world.wales)
    url, table, ref = {
        "case": (f"/cases/{case.reference}", "cases", case.reference),
        "notice": (f"/notices/{notice.reference}", "foreseeability_notices", notice.reference),
        "member": (f"/cases/members/{member.id}", "members", member.pseudonym),
    }[kind]
    login_as(world.london_rep)
    assert client.get(url).status_code == 404
    (entry,) = _entries(AuditAction.ACCESS_REFUSED)
    assert (entry.actor_id, entry.target_type, entry.target_ref) == (world.london_rep.id, table, ref)
    assert entry.details == {"region_id": world.wales.id}


def test_a_reference_that_does_not_exist_leaves_no_entry(app, world, client, login_as):
    login_as(world.london_rep)
    assert client.get("/cases/CASE-2026-9999").status_code == 404
    assert _entries(AuditAction.ACCESS_REFUSED) == []


def test_an_official_opening_any_region_is_not_a_refusal(app, world, client, login_as):
    case = make_case(world.wales_rep, world.wales)
    login_as(world.official)
    assert client.get(f"/cases/{case.reference}").status_code == 200
    assert _entries(AuditAction.ACCESS_REFUSED) == []


# ---------------------------------------------------------------- the database keeps it append-only


def test_the_database_refuses_to_change_or_delete_an_audit_entry(app, world):
    before = count(AuditEvent)
    db.session.commit()  # no read of ours may stand in TRUNCATE's way
    statements = ["UPDATE audit_events SET action = 'nothing'", "DELETE FROM audit_events"]
    if db.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_events")  # SQLite has no TRUNCATE: its DELETE is refused above
    for statement in statements:
        with db.engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text(statement))
    assert count(AuditEvent) == before


def test_only_entries_older_than_the_permit_are_deleted_and_the_permit_goes(app, world):
    old = AuditEvent(
        action="test:old", actor_label="x", occurred_at=datetime.now(UTC) - timedelta(days=3000), details={}
    )
    db.session.add(old)
    db.session.commit()
    before = count(AuditEvent)
    cutoff = datetime.combine(today() - timedelta(days=2555), datetime.min.time(), tzinfo=UTC)
    assert delete_entries_before(cutoff) == 1
    db.session.commit()
    assert count(AuditEvent) == before - 1 and count(AuditDeletionPermit) == 0
    with db.engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text("DELETE FROM audit_events"))
