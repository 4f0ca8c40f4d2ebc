"""Migration 0010 encrypts the members' data already in a database, files included, and its
downgrade decrypts it all back."""

from __future__ import annotations

import base64
from datetime import date
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from napo_tracker.cases.models import CaseAttachment, Member
from napo_tracker.cases.services import add_entry, change_status, member_with_number
from napo_tracker.extensions import db
from napo_tracker.testimonies import services as testimonies
from tests import factories

from .test_key_rotation import _snapshot


def _before_encryption(app: Flask) -> str:
    config = app.extensions["migrate"].migrate.get_config()
    down = ScriptDirectory.from_config(config).get_revision("0010").down_revision
    assert isinstance(down, str)
    return down


def _records(world) -> None:
    member = factories.make_member(world.london_rep, world.london, name="Rhiannon Sample", membership_number="N-77")
    case = factories.make_case(world.london_rep, world.london, member_id=member.id, description="Signed off sick.")
    add_entry(world.london_rep, case, kind="note", happened_on=date.today(), body="Met the member.")
    change_status(world.london_rep, case, "resolved", outcome="Caseload cut to 40.")
    db.session.commit()
    factories.make_attachment(world.london_rep, case, b"Letter to Rhiannon Sample\n", "letter.txt")
    factories.make_notice(world.london_rep, world.london, served_on=date.today(), member_id=member.id)
    testimony, _code = factories.make_testimony_with_code()
    follow_up = testimonies.ask_follow_up(world.official, testimony, "Which unit?")
    testimonies.answer_follow_up(testimony, follow_up.id, "A court team in the north of the region.")
    db.session.commit()


def _raw(sql: str):
    return db.session.execute(text(sql)).scalar_one()


def _files(app: Flask) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in Path(app.config["INSTANCE_FILES_DIR"]).iterdir()}


def test_the_downgrade_decrypts_and_the_upgrade_encrypts_what_is_there(app, world):
    _records(world)
    before = _snapshot()
    db.session.remove()

    downgrade(revision=_before_encryption(app))
    db.session.remove()
    assert _raw("SELECT name FROM members") == "Rhiannon Sample"
    assert _raw("SELECT membership_number FROM members") == "N-77"
    assert _raw("SELECT description FROM cases") == "Signed off sick."
    assert _raw("SELECT answer FROM testimony_follow_ups") == "A court team in the north of the region."
    assert bytes(_raw("SELECT letter_pdf FROM foreseeability_notices")).startswith(b"%PDF")
    assert list(_files(app).values()) == [b"Letter to Rhiannon Sample\n"]  # the file in clear again, alone
    plain_name = _raw("SELECT stored_name FROM case_attachments")
    db.session.remove()

    upgrade()
    db.session.remove()
    assert _snapshot() == before
    for sql in (
        "SELECT name FROM members",
        "SELECT membership_number FROM members",
        "SELECT description FROM cases",
        "SELECT body FROM case_entries",
        "SELECT original_text FROM testimonies",
        "SELECT answer FROM testimony_follow_ups",
    ):
        values = db.session.execute(text(sql)).scalars().all()
        assert values and all(base64.b64decode(value)[:1] == b"\x01" for value in values), sql
    assert not bytes(_raw("SELECT letter_pdf FROM foreseeability_notices")).startswith(b"%PDF")
    files = _files(app)
    attachment = db.session.scalars(select(CaseAttachment)).one()
    assert list(files) == [attachment.stored_name] and attachment.stored_name != plain_name
    assert b"Rhiannon" not in files[attachment.stored_name]
    found = member_with_number("n-77")
    assert found is not None and found.name == "Rhiannon Sample"


@pytest.mark.sqlite_only  # what a SQLite file keeps of rows it rewrote; PostgreSQL's VACUUM is documented
def test_no_clear_text_is_left_in_the_sqlite_file_after_the_upgrade(app, world):
    _records(world)
    db.session.remove()
    downgrade(revision=_before_encryption(app))
    upgrade()
    db.session.remove()
    db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    db.session.remove()
    db.engine.dispose()
    content = Path(db.engine.url.database or "").read_bytes()
    for clear in (b"Rhiannon", b"N-77", b"Signed off sick", b"Met the member", b"north of the region"):
        assert clear not in content, clear


def test_membership_numbers_that_would_clash_are_refused_before_anything_changes(app, world, capsys):
    factories.make_member(world.london_rep, world.london, membership_number="N-77")
    region_id = world.london.id
    db.session.remove()
    downgrade(revision=_before_encryption(app))
    db.session.execute(
        text("INSERT INTO members (region_id, name, membership_number, created_at) VALUES (:r, 'Twin', 'n-77 ', :t)"),
        {"r": region_id, "t": "2026-01-01 00:00:00"},
    )
    db.session.commit()
    db.session.remove()
    with pytest.raises(SystemExit):  # Flask-Migrate: the message, and exit status 1
        upgrade()
    assert "differ only in case or spacing" in capsys.readouterr().err
    db.session.remove()
    db.engine.dispose()
    assert _raw("SELECT version_num FROM alembic_version") == _before_encryption(app)
    assert sorted(db.session.execute(text("SELECT name FROM members")).scalars()) == ["Ada Example", "Twin"]
    db.session.execute(text("DELETE FROM members WHERE name = 'Twin'"))
    db.session.commit()
    db.session.remove()
    upgrade()
    db.session.remove()
    assert [m.name for m in db.session.scalars(select(Member))] == ["Ada Example"]
