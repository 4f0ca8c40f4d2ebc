"""Erasing a member: who they are goes, what happened stays as anonymised facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from napo_tracker.accounts.models import UserSession
from napo_tracker.accounts.sessions import start_session
from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.cases.models import Case, CaseAttachment, CaseEntry, Member
from napo_tracker.cases.services import add_entry, case_figures, update_member
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today
from napo_tracker.kernel.errors import DomainError
from napo_tracker.notices.models import ForeseeabilityNotice
from napo_tracker.privacy.erasure import PrivacyError, erase_member
from napo_tracker.privacy.models import ErasureTombstone
from napo_tracker.privacy.tombstones import number_hash, read_ledger
from tests.factories import World, make_attachment, make_case, make_member, make_notice, make_user
from tests.files import pdf_bytes
from tests.helpers import count, csrf_from


@dataclass
class Records:
    ada: Member
    bob: Member
    cases: list[Case]
    own_notice: ForeseeabilityNotice
    team_notice: ForeseeabilityNotice
    attachment: CaseAttachment


def make_records(world: World) -> Records:
    rep = world.london_rep
    ada = make_member(rep, world.london, name="Ada Example", membership_number="N12345", email="ada@example.org")
    bob = make_member(rep, world.london, name="Bob Other", membership_number="N99999", email="bob@example.org")
    first = make_case(rep, world.london, member_id=ada.id, title="Ada's caseload", description="Ada is at 170 %.")
    second = make_case(rep, world.london, member_id=ada.id, category="no_cover", title="No cover for Ada")
    attachment = make_attachment(rep, first, pdf_bytes(), "ada-sick-note.pdf")
    add_entry(rep, first, kind="note", happened_on=today(), body="Met Ada and Bob Other about the PDU.")
    db.session.commit()
    own = make_notice(rep, world.london, served_on=today() - timedelta(days=3), member_id=ada.id)
    team = make_notice(
        rep, world.london, kind="collective", signatory_count=4, named_member_ids=[ada.id, bob.id], member_id=None
    )
    return Records(ada, bob, [first, second], own, team, attachment)


def _files(app) -> set[str]:
    folder = Path(app.config["INSTANCE_FILES_DIR"])
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def test_erasure_wipes_who_the_member_is_and_keeps_the_facts(app, world):
    records = make_records(world)
    ada = records.ada
    figures_before = case_figures(world.admin)
    stored = records.attachment.stored_name

    plan = erase_member(world.admin, ada)
    assert stored in _files(app)  # the file goes only once the erasure is committed
    db.session.commit()

    assert stored not in _files(app)
    assert plan.attachments == 1 and len(plan.cases) == 2
    assert (ada.name, ada.membership_number, ada.email, ada.phone) == ("", None, None, None)
    assert ada.erased_on == today() and ada.pseudonym.startswith("Member M-")
    assert count(CaseAttachment) == 0
    for case in records.cases:
        assert case.anonymised_on == today() and case.member_id is None
        assert case.title == "Anonymised case" and case.description == "" and case.region_id == world.london.id
    assert all(entry.body == "" for entry in db.session.scalars(select(CaseEntry)))
    assert case_figures(world.admin) == figures_before  # regional figures stay true
    own = records.own_notice
    assert own.anonymised_on == today() and own.member_id is None and own.letter_pdf is None
    assert own.letter_sha256 and own.served_on and own.wmt_percent  # the facts and the letter's checksum stay
    assert own.concerns_detail == "" and own.served_to_name == ""
    team = records.team_notice
    assert [m.id for m in team.named_members] == [records.bob.id] and team.signatory_count == 4
    assert team.anonymised_on is None

    tombstone = db.session.scalars(select(ErasureTombstone)).one()
    assert (tombstone.kind, tombstone.record_id) == ("member", ada.id)
    assert tombstone.number_hash == number_hash("N12345") and "N12345" not in tombstone.number_hash
    assert read_ledger() == [
        {
            "kind": "member",
            "record_id": ada.id,
            "number_hash": number_hash("N12345"),
            "erased_on": today().isoformat(),
            "account_action": None,
            "account_id": None,
        }
    ]
    entry = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.MEMBER_ERASED)).one()
    assert entry.target_ref == ada.pseudonym
    assert "Ada" not in str(entry.details) and "N12345" not in str(entry.details)


def test_an_erased_member_cannot_be_erased_again_or_edited_and_their_cases_are_frozen(app, world):
    records = make_records(world)
    erase_member(world.admin, records.ada)
    db.session.commit()
    with pytest.raises(PrivacyError, match="already erased"):
        erase_member(world.admin, records.ada)
    with pytest.raises(DomainError, match="erased"):
        update_member(
            world.admin,
            records.ada,
            unit_id=None,
            name="Back again",
            membership_number=None,
            email=None,
            phone=None,
            grade=None,
        )
    with pytest.raises(DomainError, match="anonymised"):
        add_entry(world.london_rep, records.cases[0], kind="note", happened_on=today(), body="More.")


def test_a_member_who_holds_an_account_is_handled_explicitly(app, world):
    records = make_records(world)
    account = make_user("rep", [world.london], email="Ada@Example.org")
    start_session(account)
    db.session.commit()

    with pytest.raises(PrivacyError, match="also holds an account") as refused:
        erase_member(world.admin, records.ada)
    assert refused.value.field == "account"
    db.session.rollback()
    assert records.ada.name == "Ada Example"

    erase_member(world.admin, records.ada, account="deactivate")
    db.session.commit()
    db.session.refresh(account)
    assert not account.is_active and account.email == "ada@example.org"
    assert all(s.ended_at is not None for s in db.session.scalars(select(UserSession)))
    tombstone = db.session.scalars(select(ErasureTombstone)).one()
    assert (tombstone.account_action, tombstone.account_id) == ("deactivated", account.id)


def test_keeping_the_account_leaves_it_working(app, world):
    records = make_records(world)
    account = make_user("rep", [world.london], email="ada@example.org")
    erase_member(world.admin, records.ada, account="keep")
    db.session.commit()
    db.session.refresh(account)
    assert account.is_active


# ---------------------------------------------------------------- the command


def test_the_command_erases_by_membership_number(app, world, cli):
    records = make_records(world)
    result = cli("members", "erase", "N12345", "--yes")
    assert result.exit_code == 0, result.output
    assert "2 case(s) anonymised, 1 attachment(s) deleted" in result.output
    db.session.expire_all()
    assert records.ada.erased_on == today()


def test_the_command_asks_first_and_a_no_changes_nothing(app, world, cli):
    records = make_records(world)
    result = cli("members", "erase", "N12345", input="n\n")
    assert result.exit_code != 0
    db.session.expire_all()
    assert records.ada.name == "Ada Example" and count(CaseAttachment) == 1


@pytest.mark.parametrize("number", ["N00000", "M-9999", " "])
def test_an_unknown_membership_number_is_a_clear_refusal(app, world, cli, number):
    make_records(world)
    result = cli("members", "erase", number, "--yes")
    assert result.exit_code == 1
    assert "No member has the membership number or pseudonym" in result.output or "Give a membership" in result.output
    assert count(Member, Member.erased_on.is_not(None)) == 0


def test_the_command_refuses_a_member_with_an_account_until_told_what_to_do(app, world, cli):
    records = make_records(world)
    make_user("rep", [world.london], email="ada@example.org")
    refused = cli("members", "erase", "N12345", "--yes")
    assert refused.exit_code == 1 and "--account keep or --account deactivate" in refused.output
    db.session.expire_all()
    assert records.ada.erased_on is None
    assert cli("members", "erase", "N12345", "--yes", "--account", "keep").exit_code == 0


# ---------------------------------------------------------------- the admin page


def test_an_admin_erases_from_the_page_after_typing_the_pseudonym(app, world, client, login_as):
    records = make_records(world)
    login_as(world.admin)
    url = f"/admin/privacy/members/{records.ada.id}/erase"
    page = client.get(url)
    assert page.status_code == 200 and "2 case(s) anonymised" in page.text
    wrong = client.post(url, data={"csrf_token": csrf_from(page.text), "confirm": "M-0000"})
    assert wrong.status_code == 400 and f"Type {records.ada.pseudonym} exactly" in wrong.text
    db.session.expire_all()
    assert records.ada.erased_on is None

    done = client.post(url, data={"csrf_token": csrf_from(page.text), "confirm": records.ada.pseudonym.lower()})
    assert done.status_code == 302
    db.session.expire_all()
    assert records.ada.erased_on == today()
    member_page = client.get(done.headers["Location"])
    assert "identifying details were erased" in member_page.text and "Ada Example" not in member_page.text


def test_the_page_asks_about_the_account_of_a_member_who_holds_one(app, world, client, login_as):
    records = make_records(world)
    make_user("rep", [world.london], email="ada@example.org")
    login_as(world.admin)
    url = f"/admin/privacy/members/{records.ada.id}/erase"
    page = client.get(url)
    assert "also holds an account" in page.text
    refused = client.post(url, data={"csrf_token": csrf_from(page.text), "confirm": records.ada.pseudonym})
    assert refused.status_code == 400 and "Choose whether to keep or deactivate" in refused.text
    kept = client.post(
        url, data={"csrf_token": csrf_from(page.text), "confirm": records.ada.pseudonym, "account": "keep"}
    )
    assert kept.status_code == 302


@pytest.mark.parametrize("who", ["london_rep", "official"])
def test_only_admins_erase(app, world, client, login_as, who):
    records = make_records(world)
    login_as(getattr(world, who))
    assert client.get(f"/admin/privacy/members/{records.ada.id}/erase").status_code == 403


def test_erasing_a_member_who_does_not_exist_is_a_404(app, world, client, login_as):
    login_as(world.admin)
    assert client.get("/admin/privacy/members/999/erase").status_code == 404


def test_tombstones_do_not_date_anything_finer_than_the_day(app, world):
    records = make_records(world)
    erase_member(world.admin, records.ada)
    db.session.commit()
    columns = {column.name for column in ErasureTombstone.__table__.columns}
    assert not {name for name in columns if name.endswith("_at")}
    from napo_tracker.privacy.tombstones import ledger_path

    modified = date.fromtimestamp(ledger_path().stat().st_mtime)
    assert ledger_path().stat().st_mtime % 60 == 0 and modified <= today()
