"""Subject access: everything held about one member, readable and machine-readable, others redacted."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.cases.services import add_entry, view_member
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today
from napo_tracker.privacy.erasure import erase_member
from napo_tracker.privacy.export import build_export
from tests.helpers import count

from .test_erasure import make_records


def _open(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def test_the_export_holds_everything_about_the_member_and_hides_everyone_else(app, world):
    records = make_records(world)
    case = records.cases[0]
    add_entry(
        world.london_rep,
        case,
        kind="call",
        happened_on=today(),
        body="Rang bob@example.org and 07700 900999; Ada's own number is 07700 900123.",
    )
    view_member(world.london_rep, records.ada.id)  # an audited look at who she is
    db.session.commit()

    archive = _open(build_export(world.admin, records.ada))
    names = set(archive.namelist())
    assert {"README.txt", "data.json", "summary.pdf"} <= names
    attachment_path = f"attachments/{case.reference}/{records.attachment.id}-ada-sick-note.pdf"
    assert hashlib.sha256(archive.read(attachment_path)).hexdigest() == records.attachment.sha256  # as uploaded
    assert f"letters/{records.own_notice.reference}.pdf" in names

    data = json.loads(archive.read("data.json"))
    assert (data["member"]["name"], data["member"]["membership_number"]) == ("Ada Example", "N12345")
    assert [c["reference"] for c in data["cases"]] == sorted(c.reference for c in records.cases)
    notices = {n["reference"]: n for n in data["notices"]}
    assert set(notices) == {records.own_notice.reference, records.team_notice.reference}
    assert notices[records.team_notice.reference]["other_members_named"] == 1
    assert notices[records.own_notice.reference]["served_to"] == "[the manager]"

    text = json.dumps(data)
    assert "Bob Other" not in text and "bob@example.org" not in text and "07700 900999" not in text
    assert "Jo Manager" not in text and "rep.london@example.org" not in text
    assert "07700 900123" in text and "[another person]" in text and "[a phone number]" in text
    timeline = next(c for c in data["cases"] if c["reference"] == case.reference)["timeline"]
    assert {entry["by"] for entry in timeline} == {"a rep"}
    actions = {entry["action"] for entry in data["audit"]}
    assert {AuditAction.MEMBER_CREATED, AuditAction.MEMBER_VIEWED, AuditAction.CASE_CREATED} <= actions
    assert {entry["by"] for entry in data["audit"]} <= {"a rep", "an admin", "a national official", "the system"}

    summary = "".join(page.extract_text() for page in PdfReader(io.BytesIO(archive.read("summary.pdf"))).pages)
    assert "Ada Example" in summary and "N12345" in summary and "Bob Other" not in summary
    assert "NOT redacted" in archive.read("README.txt").decode()

    made = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.MEMBER_EXPORTED)).one()
    assert made.target_ref == records.ada.pseudonym and made.actor_id == world.admin.id


def test_the_command_writes_the_export_for_a_membership_number(app, world, cli, tmp_path):
    records = make_records(world)
    target = tmp_path / "ada.zip"
    result = cli("members", "export", "N12345", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert f"Wrote the export of {records.ada.pseudonym}" in result.output
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert json.loads(_open(target.read_bytes()).read("data.json"))["member"]["name"] == "Ada Example"
    assert count(AuditEvent, AuditEvent.action == AuditAction.MEMBER_EXPORTED) == 1


def test_the_command_accepts_a_pseudonym_too(app, world, cli, tmp_path):
    records = make_records(world)
    result = cli("members", "export", records.ada.pseudonym.split()[-1], "-o", str(tmp_path / "a.zip"))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("number", ["N00000", "M-0999", "not a number"])
def test_an_unknown_membership_number_is_refused_and_writes_nothing(app, world, cli, tmp_path, number):
    make_records(world)
    target = tmp_path / "nobody.zip"
    result = cli("members", "export", number, "-o", str(target))
    assert result.exit_code == 1
    assert "No member has the membership number or pseudonym" in result.output
    assert not target.exists()
    assert count(AuditEvent, AuditEvent.action == AuditAction.MEMBER_EXPORTED) == 0


def test_an_existing_file_is_never_overwritten(app, world, cli, tmp_path):
    make_records(world)
    target = tmp_path / "kept.zip"
    target.write_bytes(b"something else")
    result = cli("members", "export", "N12345", "-o", str(target))
    assert result.exit_code == 1 and "already exists" in result.output
    assert target.read_bytes() == b"something else"


def test_an_erased_member_has_nothing_to_export(app, world, cli, tmp_path):
    records = make_records(world)
    erase_member(world.admin, records.ada)
    db.session.commit()
    result = cli("members", "export", records.ada.pseudonym.split()[-1], "-o", str(tmp_path / "x.zip"))
    assert result.exit_code == 1 and "nothing about them is held" in result.output
    assert not Path(tmp_path / "x.zip").exists()
