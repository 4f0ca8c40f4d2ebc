"""A member's withdrawal reaches the briefings already published with their words in them."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.briefings import services as svc
from napo_tracker.briefings.models import BriefingVersion
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today
from tests.factories import make_testimony_with_code
from tests.helpers import count, csrf_from

QUOTED = "We were told to cover a colleague's caseload on top of our own for six months."


def _withdraw(client, code: str):
    page = client.get("/testimony/status")
    return client.post(
        "/testimony/status",
        data={
            "withdraw-csrf_token": csrf_from(page.data),
            "withdraw-code": code,
            "withdraw-confirm": "y",
            "withdraw-submit": "y",
        },
    )


def _check(client, code: str) -> str:
    page = client.get("/testimony/status")
    return client.post("/testimony/status", data={"csrf_token": csrf_from(page.data), "code": code}).text


def _published(world, full_briefing):
    """The full briefing, quoting one more testimony (whose member keeps the receipt code), published."""
    testimony, code = make_testimony_with_code(
        QUOTED + " (and more)", approved_by=world.official, public_text=QUOTED, mps=True
    )
    svc.set_testimonies(world.official, full_briefing, [full_briefing.test_testimony.id, testimony.id])
    version = svc.publish(world.official, full_briefing)
    db.session.commit()
    return testimony, code, version


def test_publishing_keeps_the_testimonies_each_version_quotes(app, world, full_briefing):
    testimony, _code, version = _published(world, full_briefing)
    assert {t.id for t in version.quoted_testimonies} == {full_briefing.test_testimony.id, testimony.id}


def test_the_member_is_told_before_withdrawing_where_their_words_went(app, world, full_briefing, client):
    _testimony, code, _version = _published(world, full_briefing)
    page = _check(client, code)
    assert "Where your words have been sent" in page
    assert f"a briefing for MPs and peers ({full_briefing.reference}, version 1)" in page
    assert "copies already sent cannot be called back" in page


def test_withdrawal_stops_the_pdf_erases_its_bytes_and_tells_the_member_the_truth(
    app, world, full_briefing, client, login_as
):
    _testimony, code, version = _published(world, full_briefing)
    sent_sha = version.sha256
    assert hashlib.sha256(version.pdf).hexdigest() == sent_sha
    audit_before = count(AuditEvent)

    done = _withdraw(client, code)
    assert done.status_code == 200
    page = done.text
    assert "Nothing you wrote is kept" not in page
    assert "Copies sent out before you withdrew" in page
    assert f"{full_briefing.reference}, version 1" in page and "we no longer send it" in page
    assert f"our stored copy was erased on {today():%-d %B %Y}" in page
    assert "What we cannot recall" in page and "Encrypted backups" in page
    assert count(AuditEvent) == audit_before  # nothing the member did is timed

    db.session.expire_all()
    version = db.session.get_one(BriefingVersion, version.id)
    assert version.withdrawn_testimony_on == today() and version.pdf_erased_on == today()
    assert version.pdf == b"" and version.html == "" and version.sha256 == sent_sha
    assert QUOTED.encode() not in b"".join(db.session.scalars(select(BriefingVersion.pdf)))

    login_as(world.official)
    for url in (f"/briefings/{full_briefing.reference}.pdf", f"/briefings/{full_briefing.reference}/v1.pdf"):
        gone = client.get(url)
        assert gone.status_code == 410 and gone.mimetype == "text/html"
        assert full_briefing.reference in gone.text and sent_sha in gone.text
        assert f"{today():%-d %B %Y}" in gone.text and "withdrawn" in gone.text
    listing = client.get("/briefings/")
    assert "withdrawn testimony: publish a correction" in listing.text and "PDF erased" in listing.text
    home = client.get("/")
    assert "Briefings to correct" in home.text and full_briefing.reference in home.text
    login_as(world.london_rep)
    assert "Briefings to correct" not in client.get("/").text


def test_officials_are_emailed_once_a_day_without_the_words(app, world, full_briefing, client, mail_server):
    _testimony, code, version = _published(world, full_briefing)
    _withdraw(client, code)
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["briefings", "notify", "--dry-run"])
    assert dry.exit_code == 0 and "Dry run" in dry.output and not mail_server.messages

    sent = runner.invoke(args=["briefings", "notify"])
    assert sent.exit_code == 0, sent.output
    assert "E-mailed 2 official(s) and admin(s) about 1 version(s)" in sent.output
    for address in ("official@example.org", "admin@example.org"):
        (body,) = mail_server.bodies_to(address)
        assert f"{full_briefing.reference} version 1" in body and QUOTED not in body
        assert f"https://tracker.example.org/briefings/{full_briefing.reference}" in body
    entry = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.BRIEFING_VERSION_ERASED.value)
    ).one()
    assert entry.details["sha256"] == version.sha256 and entry.details["erased_on"] == today().isoformat()

    again = runner.invoke(args=["briefings", "notify"])
    assert "No published version has a newly withdrawn testimony" in again.output
    assert len(mail_server.messages) == 2


def test_a_corrected_version_is_one_step(app, world, full_briefing, client, login_as):
    _testimony, code, _version = _published(world, full_briefing)
    _withdraw(client, code)
    login_as(world.official)
    page = client.get(f"/briefings/{full_briefing.reference}")
    assert "Publish a corrected version without the withdrawn testimony" in page.text

    corrected = client.post(
        f"/briefings/{full_briefing.reference}/correct",
        data={"csrf_token": csrf_from(page.text), "expected_version": full_briefing.version},
    )
    assert corrected.status_code == 302
    db.session.expire_all()
    latest = full_briefing.latest_published
    assert latest is not None and latest.number == 2 and not full_briefing.needs_correction
    assert {t.id for t in latest.quoted_testimonies} == {full_briefing.test_testimony.id}
    served = client.get(f"/briefings/{full_briefing.reference}.pdf")
    assert served.status_code == 200 and hashlib.sha256(served.data).hexdigest() == latest.sha256
    assert "Briefings to correct" not in client.get("/").text
    assert count(AuditEvent, AuditEvent.action == AuditAction.BRIEFING_DOWNLOADED.value) == 1

    status = _check(client, code)
    assert "a corrected version without your words replaced it" in status


def test_a_briefing_with_nothing_to_correct_is_refused_the_correction(app, world, full_briefing, client, login_as):
    _published(world, full_briefing)
    login_as(world.official)
    page = client.get(f"/briefings/{full_briefing.reference}")
    response = client.post(
        f"/briefings/{full_briefing.reference}/correct",
        data={"csrf_token": csrf_from(page.text), "expected_version": full_briefing.version},
        follow_redirects=True,
    )
    assert "has no published version that needs correcting" in response.text
    assert full_briefing.latest_published.number == 1


def test_the_command_refuses_to_write_an_erased_version(app, world, full_briefing, client, tmp_path):
    _testimony, code, _version = _published(world, full_briefing)
    _withdraw(client, code)
    target = tmp_path / "sent.pdf"
    result = app.test_cli_runner().invoke(
        args=["briefings", "render", full_briefing.reference, "-o", str(target), "--published"]
    )
    assert result.exit_code == 1 and "was erased" in result.output and not target.exists()


def test_a_testimony_never_quoted_says_so_after_withdrawal(app, world, client):
    _testimony, code = make_testimony_with_code(approved_by=world.official, mps=True)
    page = _withdraw(client, code).text
    assert "Your words had not been quoted in anything the union sent out." in page


def test_a_list_downloaded_while_the_testimony_was_approved_is_owned_up_to(app, world, client, login_as):
    _testimony, code = make_testimony_with_code(approved_by=world.official, mps=True)
    login_as(world.official)
    assert client.get("/testimonies/export.csv").status_code == 200
    client.get("/")  # a fresh request: the member's own, with no account
    page = _withdraw(client, code).text
    assert "an official downloaded the list of approved testimonies" in page
