"""Encryption at rest through the real pages: what people type is readable on the pages and
nowhere in the database file, its WAL, the files folder or the raw column values."""

from __future__ import annotations

import base64
import io
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from config import TestingConfig
from napo_tracker import ConfigurationError, create_app
from napo_tracker.accounts.models import User
from napo_tracker.cases.models import Case, CaseAttachment, Member
from napo_tracker.cases.services import CaseError, member_with_number
from napo_tracker.crypto import generate_key
from napo_tracker.extensions import db
from napo_tracker.notices.models import ForeseeabilityNotice
from napo_tracker.regions.models import Region
from napo_tracker.testimonies import services as testimonies
from napo_tracker.testimonies.models import FollowUp, Testimony
from tests import factories
from tests.helpers import csrf_from, form_tokens, submit

from .testimonies.conftest import LONG_ENOUGH, form_data

# One distinct word per field, so a failure says which field leaked.
CANARIES = {
    "member name": "Zephyrine Quillfeather",
    "membership number": "QX-880421",
    "member e-mail": "zephyrine.q@canary.example",
    "member phone": "07700 913579",
    "case description": "Vexillology-sick-note-canary",
    "case outcome": "Outcome-canary-kumquat",
    "timeline note": "Timeline-canary-marzipan",
    "attachment name": "Canary-filename-okapi",
    "attachment text": "Attachment-canary-narwhal",
    "testimony text": "Testimony-canary-axolotl",
    "follow-up answer": "Answer-canary-pangolin",
    "notice detail": "Notice-canary-quokka",
}
# Kept in clear on purpose (docs/privacy.md): finding it proves the raw reads would see a leak.
CLEAR_CONTROL = "Title-in-clear-wombat"


def _member_form(region, **changes) -> dict:
    return {
        "region_id": str(region.id),
        "unit_id": "",
        "name": "Ada Example",
        "membership_number": "",
        "email": "",
        "phone": "",
        "grade": "PO",
    } | changes


def _create_member(client, region, **changes) -> Member:
    response = submit(client, "/cases/members/new", _member_form(region, **changes))
    assert response.status_code == 302, response.get_data(as_text=True)
    member_id = int(re.search(r"/members/(\d+)", response.headers["Location"]).group(1))  # type: ignore[union-attr]
    return db.session.get_one(Member, member_id)


def _raw_column(table: str, column: str, record_id: int):
    return db.session.execute(text(f"SELECT {column} FROM {table} WHERE id = :id"), {"id": record_id}).scalar_one()


def test_a_member_typed_into_the_page_is_shown_and_stored_as_ciphertext(client, login_as, world):
    login_as(world.london_rep)
    member = _create_member(
        client,
        world.london,
        name="Bronwen Private",
        membership_number="N-4471",
        email="bronwen@example.org",
        phone="07700 900555",
    )
    page = client.get(f"/cases/members/{member.id}").get_data(as_text=True)
    assert all(value in page for value in ("Bronwen Private", "N-4471", "bronwen@example.org", "07700 900555"))
    for column, value in (
        ("name", "Bronwen Private"),
        ("membership_number", "N-4471"),
        ("email", "bronwen@example.org"),
        ("phone", "07700 900555"),
    ):
        stored = _raw_column("members", column, member.id)
        assert value not in stored and base64.b64decode(stored)[:1] == b"\x01"  # a token, version 1
    # Each value is encrypted afresh: the same name twice is two different ciphertexts.
    twin = _create_member(client, world.london, name="Bronwen Private")
    assert _raw_column("members", "name", twin.id) != _raw_column("members", "name", member.id)
    assert _raw_column("members", "membership_number_hash", member.id) == member.membership_number_hash


def test_a_member_is_found_by_membership_number_whatever_the_case_and_spacing(client, login_as, world):
    login_as(world.london_rep)
    member = _create_member(client, world.london, membership_number="N-4471")
    assert member_with_number("N-4471") == member
    assert member_with_number("  n-4471 ") == member
    assert member_with_number("N-4472") is None
    # The number is unique, through its hash, for every region.
    again = submit(client, "/cases/members/new", _member_form(world.london, name="Other", membership_number="n-4471"))
    assert again.status_code == 400 and "already recorded" in again.get_data(as_text=True)
    login_as(world.wales_rep)
    response = submit(client, "/cases/members/new", _member_form(world.wales, name="Other", membership_number="N-4471"))
    assert response.status_code == 400 and "already recorded" in response.get_data(as_text=True)
    # Editing a member keeps the hash in step with the number.
    member.membership_number = "N-9000"
    db.session.commit()
    assert member_with_number("N-4471") is None and member_with_number("n-9000") == member
    member.membership_number = None
    db.session.commit()
    assert member.membership_number_hash is None


def test_members_are_still_found_after_a_new_key_is_added_in_front(app, world):
    """Between adding a key and rotating, numbers hashed under the older key are still found."""
    member = factories.make_member(world.london_rep, world.london, membership_number="N-1000")
    member_id, rep_id, region_id = member.id, world.london_rep.id, world.london.id
    db.session.remove()
    newer = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        INSTANCE_FILES_DIR=app.config["INSTANCE_FILES_DIR"],
        DATA_KEYS=f"{generate_key()},{TestingConfig.DATA_KEYS}",
    )
    with newer.app_context():
        rep, region = db.session.get_one(User, rep_id), db.session.get_one(Region, region_id)
        found = member_with_number("N-1000")
        assert found is not None and found.id == member_id and found.name == "Ada Example"
        with pytest.raises(CaseError, match="already recorded"):
            factories.make_member(rep, region, membership_number="n-1000")
        db.session.rollback()
        other = factories.make_member(rep, region, name="New Key", membership_number="N-2000")
        assert member_with_number("N-2000") == other
        db.session.remove()
        db.engine.dispose()


def _fill_with_canaries(client, login_as, world) -> None:
    """Every kind of member data, typed through the pages where a person types it."""
    login_as(world.london_rep)
    member = _create_member(
        client,
        world.london,
        name=CANARIES["member name"],
        membership_number=CANARIES["membership number"],
        email=CANARIES["member e-mail"],
        phone=CANARIES["member phone"],
    )
    response = submit(
        client,
        "/cases/new",
        {
            "region_id": str(world.london.id),
            "unit_id": "",
            "member_id": str(member.id),
            "category": "excessive_workload",
            "title": CLEAR_CONTROL,
            "description": f"Off work: {CANARIES['case description']}.",
            "grade": "PO",
            "wmt_percent": "130",
            "caseload": "61",
            "priority": "high",
            "assigned_rep_id": "",
            "next_action": "",
            "next_action_on": "",
            "version": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    case = db.session.scalars(select(Case)).one()
    page = f"/cases/{case.reference}"
    note = {"kind": "note", "happened_on": date.today().isoformat(), "body": f"Met: {CANARIES['timeline note']}"}
    assert submit(client, f"{page}/timeline", note, form_url=page).status_code == 302
    upload = client.post(
        f"{page}/attachments",
        data={
            **form_tokens(client.get(page).data),
            "file": (
                io.BytesIO(f"Dear manager, {CANARIES['attachment text']}.\n".encode()),
                f"{CANARIES['attachment name']}.txt",
            ),
        },
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    assert db.session.scalars(select(CaseAttachment)).one().original_name == f"{CANARIES['attachment name']}.txt"
    case.outcome = CANARIES["case outcome"]
    db.session.commit()
    factories.make_notice(
        world.london_rep,
        world.london,
        served_on=date.today(),
        member_id=member.id,
        concerns_detail=CANARIES["notice detail"],
    )
    # A member's testimony through the public form, and their answer to an official's question.
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/account/password").data)})
    text_typed = f"{CANARIES['testimony text']} {LONG_ENOUGH}"
    assert submit(client, "/testimony", form_data(text=text_typed)).status_code == 302
    code = re.search(r'id="receipt-code">([2-9A-Z-]+)<', client.get("/testimony/receipt").get_data(as_text=True))
    assert code is not None
    testimony = db.session.scalars(select(Testimony)).one()
    follow_up = testimonies.ask_follow_up(world.official, testimony, "Which kind of unit do you work in?")
    db.session.commit()
    answered = client.post(
        "/testimony/status",
        data={
            "answer-csrf_token": csrf_from(client.get("/testimony/status").data),
            "answer-code": code.group(1),
            "answer-follow_up_id": str(follow_up.id),
            "answer-answer": f"A court team: {CANARIES['follow-up answer']}",
            "answer-submit": "y",
        },
    )
    assert answered.status_code == 200


def _leaks(data: bytes) -> list[str]:
    return [field for field, canary in CANARIES.items() if canary.encode() in data]


def test_no_members_data_in_clear_in_the_database_its_wal_or_the_files(app, client, login_as, world):
    _fill_with_canaries(client, login_as, world)
    db.session.expire_all()
    # Everything reads back through the app...
    member = db.session.scalars(select(Member)).one()
    assert (member.name, member.membership_number) == (CANARIES["member name"], CANARIES["membership number"])
    assert CANARIES["testimony text"] in (db.session.scalars(select(Testimony)).one().original_text or "")
    assert CANARIES["follow-up answer"] in (db.session.scalars(select(FollowUp)).one().answer or "")
    notice = db.session.scalars(select(ForeseeabilityNotice)).one()
    assert notice.concerns_detail == CANARIES["notice detail"] and notice.letter_pdf is not None

    # ...and no raw column value of any table holds it: a plain SELECT, bypassing the column types.
    raw = bytearray()
    for table in inspect(db.engine).get_table_names():
        for row in db.session.execute(text(f'SELECT * FROM "{table}"')):
            for value in row:
                raw += value if isinstance(value, bytes) else str(value).encode()
    assert CLEAR_CONTROL.encode() in raw  # the title is kept in clear: this read sees clear text
    assert _leaks(bytes(raw)) == []

    files = [path for path in Path(app.config["INSTANCE_FILES_DIR"]).rglob("*") if path.is_file()]
    assert files and all(_leaks(path.read_bytes()) == [] for path in files)
    if db.engine.dialect.name == "sqlite":
        database = Path(db.engine.url.database or "")
        wal = database.with_name(database.name + "-wal")
        assert wal.exists()  # the newest writes are still in the WAL, not yet in the file
        content = database.read_bytes() + wal.read_bytes()
        assert CLEAR_CONTROL.encode() in content
        assert _leaks(content) == []


# ---------------------------------------------------------------- start-up


def test_a_wrong_key_is_refused_at_start_with_what_to_do(app, tmp_path):
    with pytest.raises(ConfigurationError, match="none of the data keys") as refused:
        create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
            INSTANCE_FILES_DIR=str(tmp_path / "files"),
            DATA_KEYS=generate_key(),
        )
    assert "Put that key back" in str(refused.value) and "restore a backup" in str(refused.value)
    # The right key, with a new one in front of it, starts.
    started = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        INSTANCE_FILES_DIR=str(tmp_path / "files"),
        DATA_KEYS=f"{generate_key()},{TestingConfig.DATA_KEYS}",
    )
    assert started.test_client().get("/healthz").status_code == 200
    with started.app_context():
        db.engine.dispose()


def test_a_tampered_key_check_is_refused_too(app, tmp_path):
    token = _raw_column("data_key_checks", "token", 1)
    tampered = base64.b64encode(base64.b64decode(token)[:-1] + b"?").decode()  # one byte changed
    db.session.execute(text("UPDATE data_key_checks SET token = :token"), {"token": tampered})
    db.session.commit()
    with pytest.raises(ConfigurationError, match="none of the data keys"):
        create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])


@pytest.mark.parametrize("configuration", ["testing", "production"])
def test_no_configuration_starts_without_a_key(tmp_path, configuration):
    with pytest.raises(ConfigurationError, match="a data key is needed") as refused:
        create_app(
            configuration,
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.sqlite",
            SECRET_KEY="s" * 48,
            DATA_KEYS="",
        )
    assert "keys generate" in str(refused.value)


def test_development_without_its_key_file_says_make_run_makes_one(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot be read") as refused:
        create_app(
            "development",
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.sqlite",
            DATA_KEY_FILE=str(tmp_path / "data.keys"),
        )
    assert "make run" in str(refused.value)
    (tmp_path / "data.keys").write_text(f"# newest first\n{generate_key()}\n")
    started = create_app(
        "development",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.sqlite",
        DATA_KEY_FILE=str(tmp_path / "data.keys"),
    )
    assert started.config["CONFIG_NAME"] == "development"
