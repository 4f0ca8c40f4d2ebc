"""Encrypted backups: a round trip loses nothing on either database, erasures made since are
applied again, and a damaged or altered backup is refused before anything is touched."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import delete, select

from napo_tracker import crypto
from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.cases.models import Case, Member
from napo_tracker.cases.services import member_with_number
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today
from napo_tracker.privacy import backups
from napo_tracker.privacy.erasure import erase_member
from napo_tracker.privacy.models import ErasureTombstone
from napo_tracker.testimonies.models import Testimony
from napo_tracker.testimonies.services import withdraw
from tests import pg
from tests.factories import make_attachment, make_case, make_testimony_with_code
from tests.files import pdf_bytes
from tests.helpers import count

from .test_erasure import make_records


@pytest.fixture
def app_overrides():
    return {"PG_BIN_DIR": pg.find_bindir()}


def _files(app) -> dict[str, str]:
    folder = Path(app.config["INSTANCE_FILES_DIR"])
    if not folder.exists():
        return {}
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.iterdir()}


def _rows() -> dict[str, int]:
    return backups.count_rows()


def _estate(world):
    records = make_records(world)
    testimony, _code = make_testimony_with_code(approved_by=world.official, mps=True)
    return records, testimony


def test_a_round_trip_loses_nothing(app, world, cli, tmp_path):
    records, _testimony = _estate(world)
    rows, files = _rows(), _files(app)
    path = tmp_path / "napo.backup"
    made = cli("backup", "create", str(path))
    assert made.exit_code == 0, made.output
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    raw = path.read_bytes()
    assert b"Ada Example" not in raw and b"N12345" not in raw and pdf_bytes()[:40] not in raw

    # Life goes on: a new case with a file, a file removed from the store.
    extra = make_case(world.london_rep, world.london)
    make_attachment(world.london_rep, extra, pdf_bytes(), "later.pdf")
    Path(app.config["INSTANCE_FILES_DIR"], records.attachment.stored_name).unlink()

    restored = cli("backup", "restore", str(path), "--yes")
    assert restored.exit_code == 0, restored.output
    assert "The backup is sound" in restored.output
    after = _rows()
    assert after["audit_events"] == rows["audit_events"] + 1  # the restore's own entry
    assert {t: n for t, n in after.items() if t != "audit_events"} == {
        t: n for t, n in rows.items() if t != "audit_events"
    }
    assert _files(app) == files
    restored_ada = member_with_number("N12345")
    assert restored_ada is not None and restored_ada.name == "Ada Example"
    assert count(AuditEvent, AuditEvent.action == AuditAction.BACKUP_RESTORED.value) == 1


def test_a_restore_applies_again_the_erasures_and_withdrawals_made_since(app, world, cli, tmp_path):
    records, testimony = _estate(world)
    ada_id, case_ids, testimony_id = records.ada.id, [c.id for c in records.cases], testimony.id
    stored = records.attachment.stored_name
    path = tmp_path / "before-erasure.backup"
    assert cli("backup", "create", str(path)).exit_code == 0
    erase_member(world.admin, records.ada)
    withdraw(testimony)
    db.session.commit()
    assert count(ErasureTombstone) == 2

    restored = cli("backup", "restore", str(path), "--yes")
    assert restored.exit_code == 0, restored.output
    assert "Erasures applied again: 1 member(s), 1 testimony withdrawal(s)" in restored.output
    ada = db.session.get(Member, ada_id)
    assert ada is not None and ada.erased_on == today() and ada.name == "" and ada.membership_number is None
    assert all(case.anonymised_on for case in db.session.scalars(select(Case).where(Case.id.in_(case_ids))))
    assert stored not in _files(app)  # removed again once the re-erasure committed
    assert db.session.get_one(Testimony, testimony_id).is_withdrawn
    assert count(ErasureTombstone) == 2


def test_the_ledger_alone_is_enough_when_the_database_is_lost(app, world, cli, tmp_path):
    records, _testimony = _estate(world)
    ada_id = records.ada.id
    path = tmp_path / "older.backup"
    assert cli("backup", "create", str(path)).exit_code == 0
    erase_member(world.admin, records.ada)
    db.session.commit()
    # The database loses its tombstones (as a broken one would): the ledger file still has them.
    db.session.execute(delete(ErasureTombstone))
    db.session.commit()
    assert cli("backup", "restore", str(path), "--yes").exit_code == 0
    ada = db.session.get(Member, ada_id)
    assert ada is not None and ada.erased_on == today()


# ---------------------------------------------------------------- refused before anything is touched


def _rewrite(path: Path, change) -> None:
    """Rewrite the backup ZIP with ``change(name, data) -> data | None`` applied to each entry."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name, data in entries:
            changed = change(name, data)
            if changed is not None:
                target.writestr(name, changed)
    path.write_bytes(buffer.getvalue())


def _alter_one_character(data: bytes) -> bytes:
    """Change one character in the middle of a token (every bit there counts, unlike the last
    character's, part of which is base64 padding)."""
    middle = len(data) // 2
    return data[:middle] + (b"B" if data[middle : middle + 1] != b"B" else b"A") + data[middle + 1 :]


@pytest.mark.parametrize(
    "damage, says",
    [
        ("truncated", "is not a complete backup"),
        ("chunk", "cannot be decrypted"),
        ("manifest", "manifest.enc cannot be decrypted"),
        ("file", "cannot be decrypted"),
        ("extra", "do not match its manifest"),
        ("missing", "do not match its manifest"),
        ("swapped", "does not match its checksum"),
        ("empty", "is not a complete backup"),
    ],
)
def test_a_damaged_or_altered_backup_is_refused_and_nothing_changes(app, world, cli, tmp_path, damage, says):
    _records, _testimony = _estate(world)
    path = tmp_path / "napo.backup"
    assert cli("backup", "create", str(path)).exit_code == 0
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:-200])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "chunk":
        _rewrite(path, lambda n, d: _alter_one_character(d) if n == "database/000000.enc" else d)
    elif damage == "manifest":
        _rewrite(path, lambda n, d: _alter_one_character(d) if n == "manifest.enc" else d)
    elif damage == "file":
        _rewrite(path, lambda n, d: _alter_one_character(d) if n.startswith("files/") else d)
    elif damage == "extra":
        _rewrite(path, lambda n, d: d)
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("files/extra.enc", crypto.encrypt(b"planted"))
    elif damage == "missing":
        _rewrite(path, lambda n, d: None if n.startswith("files/") else d)
    elif damage == "swapped":  # a validly encrypted file that is not the one the manifest names
        _rewrite(path, lambda n, d: crypto.encrypt(b"planted") if n.startswith("files/") else d)
    # Meanwhile the live data moves on: none of it may be lost to a refused restore.
    make_case(world.london_rep, world.london, title="Logged after the backup")
    rows, files = _rows(), _files(app)

    result = cli("backup", "restore", str(path), "--yes")
    assert result.exit_code == 1
    assert "Refused, nothing was changed" in result.output and says in result.output
    assert _rows() == rows and _files(app) == files
    assert db.session.scalar(select(Case.id).where(Case.title == "Logged after the backup")) is not None


def test_a_backup_made_with_another_key_is_refused(app, world, cli, tmp_path):
    _estate(world)
    path = tmp_path / "napo.backup"
    assert cli("backup", "create", str(path)).exit_code == 0
    app.config["DATA_KEYS"] = Fernet.generate_key().decode()
    crypto.init_app(app)
    result = cli("backup", "restore", str(path), "--yes")
    assert result.exit_code == 1 and "not configured" in result.output


def test_a_backup_never_overwrites_a_file(app, world, cli, tmp_path):
    path = tmp_path / "taken.backup"
    path.write_bytes(b"keep me")
    result = cli("backup", "create", str(path))
    assert result.exit_code == 1 and "already exists" in result.output
    assert path.read_bytes() == b"keep me"


def test_a_missing_backup_is_refused(app, world, cli, tmp_path):
    result = cli("backup", "restore", str(tmp_path / "nowhere.backup"), "--yes")
    assert result.exit_code == 1 and "is not a file" in result.output


def test_restoring_asks_first(app, world, cli, tmp_path):
    _estate(world)
    path = tmp_path / "napo.backup"
    assert cli("backup", "create", str(path)).exit_code == 0
    make_case(world.london_rep, world.london, title="Kept because the answer was no")
    result = cli("backup", "restore", str(path), input="n\n")
    assert result.exit_code == 1
    assert db.session.scalar(select(Case.id).where(Case.title == "Kept because the answer was no")) is not None


def test_the_manifest_counts_every_table(app, world, tmp_path):
    _estate(world)
    manifest = backups.create_backup(tmp_path / "napo.backup")
    assert manifest.tables == _rows()
    assert set(manifest.files) == set(_files(app))
    assert manifest.data["backend"] == db.engine.dialect.name
