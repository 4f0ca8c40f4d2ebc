"""Migration 0011 down and up again keeps every record it did not add."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from napo_tracker.extensions import db
from tests import factories


def _rows(table: str) -> int:
    value = db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    db.session.remove()
    return int(value)


def test_going_back_before_0011_keeps_timelines_attachments_and_notices(app, world):
    member_id = factories.make_member(world.london_rep, world.london).id
    case = factories.make_case(world.london_rep, world.london, member_id=member_id)
    factories.make_attachment(world.london_rep, case, b"A letter.\n", "letter.txt")
    factories.make_notice(
        world.london_rep, world.london, kind="collective", signatory_count=3, named_member_ids=[member_id]
    )
    db.session.remove()
    before = {table: _rows(table) for table in ("case_entries", "case_attachments", "notice_members", "cases")}

    downgrade(revision="0013")  # undo 0011 (and the revisions after it): its columns are dropped in place
    db.session.remove()
    assert {table: _rows(table) for table in before} == before
    assert db.session.execute(text("SELECT member_id FROM cases")).scalar_one() == member_id
    db.session.remove()

    upgrade()
    db.session.remove()
    assert {table: _rows(table) for table in before} == before
