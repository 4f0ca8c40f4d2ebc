"""`flask keys generate` and `flask keys rotate`: everything re-encrypted under the newest key in
one transaction; a rotation that fails or is killed part-way leaves all old, nothing unreadable."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, cast

import pytest
from flask import Flask
from sqlalchemy import Table, insert, select, text

from config import TestingConfig
from napo_tracker import PROJECT_ROOT, ConfigurationError, create_app, storage
from napo_tracker.accounts.models import User
from napo_tracker.cases.models import CaseAttachment, Member
from napo_tracker.cases.services import add_entry, change_status, delete_attachment, member_with_number
from napo_tracker.crypto import ENCRYPTED_TYPES, generate_key
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import utcnow
from napo_tracker.testimonies import services as testimonies
from tests import factories

OLD = TestingConfig.DATA_KEYS  # what the test databases were built with


def _app(app: Flask, keys: str) -> Flask:
    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        INSTANCE_FILES_DIR=app.config["INSTANCE_FILES_DIR"],
        DATA_KEYS=keys,
    )


@contextmanager
def _context(app: Flask, keys: str) -> Iterator[Flask]:
    other = _app(app, keys)
    with other.app_context():
        try:
            yield other
        finally:
            db.session.remove()
            db.engine.dispose()


def _records(world) -> None:
    """One of everything that is encrypted, made through the services."""
    member = factories.make_member(world.london_rep, world.london, name="Rhiannon Sample", membership_number="N-77")
    case = factories.make_case(world.london_rep, world.london, member_id=member.id, description="Signed off sick.")
    add_entry(world.london_rep, case, kind="note", happened_on=date.today(), body="Met the member.")
    change_status(world.london_rep, case, "resolved", outcome="Caseload cut to 40.")
    db.session.commit()
    for number in range(3):
        factories.make_attachment(world.london_rep, case, f"Letter number {number}\n".encode(), f"letter{number}.txt")
    factories.make_notice(world.london_rep, world.london, served_on=date.today(), member_id=member.id)
    testimony, _code = factories.make_testimony_with_code()
    follow_up = testimonies.ask_follow_up(world.official, testimony, "Which unit?")
    testimonies.answer_follow_up(testimony, follow_up.id, "A court team in the north of the region.")
    db.session.commit()


def _snapshot() -> dict[str, Any]:
    """Every encrypted value, decrypted, and the SHA-256 of every stored file's plain bytes:
    raises if anything is unreadable with the keys of the current app."""
    seen: dict[str, Any] = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, ENCRYPTED_TYPES)]
        if columns:
            key = next(iter(table.primary_key.columns))
            seen[table.name] = db.session.execute(select(key, *columns).order_by(key)).all()
    seen["files"] = {
        a.id: hashlib.sha256(storage.read(a.stored_name)).hexdigest()
        for a in db.session.scalars(select(CaseAttachment))
    }
    found = member_with_number("n-77")
    seen["lookup"] = found.name if found else None
    return seen


def _stored_names(app: Flask) -> set[str]:
    return {path.name for path in Path(app.config["INSTANCE_FILES_DIR"]).iterdir()}


def _rotate(app: Flask, keys: str):
    # The command runs in the app context it finds: this one's, with these keys.
    with _context(app, keys) as other:
        return other.test_cli_runner().invoke(args=["keys", "rotate"])


def test_keys_generate_prints_a_new_key_each_time(app):
    runner = app.test_cli_runner()
    first, second = runner.invoke(args=["keys", "generate"]), runner.invoke(args=["keys", "generate"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert first.output != second.output
    assert len(base64.urlsafe_b64decode(first.output.strip())) == 32  # 32 random bytes
    wrong = runner.invoke(args=["keys", "generate", "--count", "2"])
    assert wrong.exit_code == 2 and "No such option" in wrong.output


def test_rotation_re_encrypts_everything_under_the_newest_key(app, world):
    _records(world)
    before = _snapshot()
    old_files = _stored_names(app)
    db.session.remove()
    new = generate_key()

    result = _rotate(app, f"{new},{OLD}")
    assert result.exit_code == 0, result.output
    assert "members: 1 of 1 records" in result.output and "case_attachments: 3 of 3 records" in result.output
    assert "3 stored files" in result.output and "older keys may now be removed" in result.output

    with _context(app, new):  # the new key alone reads everything
        assert _snapshot() == before
        referenced = set(db.session.scalars(select(CaseAttachment.stored_name)))
    assert _stored_names(app) == referenced and not referenced & old_files  # old files gone after the commit
    with pytest.raises(ConfigurationError, match="none of the data keys"):
        _app(app, OLD)  # and the old one alone no longer starts
    # A second rotation under the same keys changes nothing that can be read.
    assert _rotate(app, new).exit_code == 0
    with _context(app, new):
        assert _snapshot() == before


def test_a_rotation_failing_half_way_keeps_everything_as_it_was(app, world):
    _records(world)
    attachments = db.session.scalars(select(CaseAttachment).order_by(CaseAttachment.id)).all()
    missing = attachments[1]
    storage.delete(missing.stored_name)  # the store lost one file: the rotation stops there
    files_before = _stored_names(app)
    with_keys = db.session.execute(select(Member.name, Member.membership_number_hash)).all()
    rep_id = world.london_rep.id
    db.session.remove()
    new = generate_key()

    result = _rotate(app, f"{new},{OLD}")
    assert result.exit_code == 1
    assert f"case_attachments record {missing.id}: its stored file" in result.output
    assert "Nothing was changed" in result.output and "Done" not in result.output
    # Members, cases and the first file had been rewritten; the rollback undid all of it.
    assert _stored_names(app) == files_before
    with _context(app, OLD):
        assert db.session.execute(select(Member.name, Member.membership_number_hash)).all() == with_keys
        for attachment in db.session.scalars(select(CaseAttachment)):
            if attachment.id != missing.id:
                storage.read(attachment.stored_name)
        db.session.execute(select(*cast(Table, CaseAttachment.__table__).c)).all()
    with pytest.raises(ConfigurationError, match="none of the data keys"):
        _app(app, new)

    # Once the lost attachment is removed from its case, the rotation goes through.
    with _context(app, OLD):
        attachment = db.session.get_one(CaseAttachment, missing.id)
        delete_attachment(db.session.get_one(User, rep_id), attachment.case, attachment)
        db.session.commit()
    assert _rotate(app, f"{new},{OLD}").exit_code == 0
    with _context(app, new):
        assert len(_snapshot()["files"]) == 2


def test_a_value_no_key_reads_stops_the_rotation_and_names_it(app, world):
    _records(world)
    member_id = db.session.scalars(select(Member.id)).one()
    db.session.execute(text("UPDATE members SET phone = 'AQ-tampered' WHERE id = :id"), {"id": member_id})
    db.session.commit()
    db.session.remove()
    result = _rotate(app, f"{generate_key()},{OLD}")
    assert result.exit_code == 1
    assert f"members record {member_id}: none of the data keys can read its phone" in result.output


def test_rotating_a_database_without_the_encryption_migration_is_refused(tmp_path):
    empty = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/empty.sqlite")
    result = empty.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 1 and "db upgrade" in result.output
    with empty.app_context():
        db.engine.dispose()


def test_a_rotation_killed_part_way_leaves_all_old_and_readable(app, world):
    """A real `flask keys rotate` process, killed with SIGKILL once it is part-way through."""
    _records(world)
    # Enough members that the rotation is still working when the first progress line arrives.
    now = utcnow()
    rows = [
        {"region_id": world.london.id, "name": f"Member {n}", "email": f"m{n}@example.org", "created_at": now}
        for n in range(6000)
    ]
    db.session.execute(insert(cast(Table, Member.__table__)), rows)
    db.session.commit()
    before = _snapshot()
    files_before = _stored_names(app)
    db.session.remove()
    db.engine.dispose()
    new = generate_key()
    env = os.environ | {
        "NAPO_CONFIG": "testing",
        "NAPO_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "NAPO_INSTANCE_FILES_DIR": app.config["INSTANCE_FILES_DIR"],
        "NAPO_DATA_KEYS": f"{new},{OLD}",
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "flask", "--app", "napo_tracker", "keys", "rotate"]
    child = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = []
    assert child.stdout is not None
    for line in child.stdout:
        output.append(line)
        if "members: 500 of" in line:
            child.send_signal(signal.SIGKILL)
            break
    child.wait(timeout=60)
    child.stdout.close()
    assert child.returncode == -signal.SIGKILL, "".join(output)
    assert not any(line.startswith("Done") for line in output)

    with _context(app, OLD):  # all old: the old key alone reads every value and file
        assert _snapshot() == before
    with pytest.raises(ConfigurationError, match="none of the data keys"):
        _app(app, new)
    assert files_before <= _stored_names(app)  # (a killed process removes nothing it wrote)

    finished = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    with _context(app, new):
        assert _snapshot() == before
