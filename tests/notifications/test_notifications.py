"""Notifications: the inbox (one's own only), what each event tells and to whom, the e-mail
choices, the daily digest, all content-free; a real SMTP server receives the e-mails."""

from __future__ import annotations

from sqlalchemy import select

from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.cases.services import update_case
from napo_tracker.extensions import db
from napo_tracker.jobs.services import enqueue
from napo_tracker.kernel import clock
from napo_tracker.notifications.models import EmailState, Notification, NotificationKind, NotificationSettings
from napo_tracker.notifications.services import deliver_pending, notify, save_choices, send_digests
from napo_tracker.testimonies.services import answer_follow_up, ask_follow_up

from .. import factories
from ..helpers import count, csrf_from, form_tokens, submit

WORDS = "My caseload is 140 per cent and my manager Sam Jones ignores it."


def _mine(user) -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))
    )


# --- the inbox ------------------------------------------------------------------------------


def test_the_inbox_shows_ones_own_and_marks_only_ones_own_read(client, login_as, world):
    mine = notify(world.london_rep, NotificationKind.CASE_ASSIGNED, "Case CASE-2026-0001 has been assigned to you.")
    theirs = notify(world.wales_rep, NotificationKind.CASE_ASSIGNED, "Case CASE-2026-0002 has been assigned to you.")
    db.session.commit()
    assert mine is not None and theirs is not None
    login_as(world.london_rep)
    page = client.get("/inbox/")
    assert page.status_code == 200 and "CASE-2026-0001" in page.text and "CASE-2026-0002" not in page.text
    token = csrf_from(page.data)
    # Someone else's id changes nothing, and says nothing either.
    assert client.post(f"/inbox/{theirs.id}/read", data={"csrf_token": token}).status_code == 302
    assert _mine(world.wales_rep)[0].read_at is None
    assert client.post("/inbox/99999999/read", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/inbox/{mine.id}/read", data={}).status_code == 400  # no CSRF token: nothing
    assert _mine(world.london_rep)[0].read_at is None
    client.post(f"/inbox/{mine.id}/read", data={"csrf_token": token})
    assert _mine(world.london_rep)[0].read_at is not None
    assert "Unread (0)" in client.get("/inbox/?show=unread").text
    assert client.get("/inbox/?page=-3").status_code == 200


def test_the_inbox_needs_a_login(client):
    assert client.get("/inbox/").status_code == 302
    assert client.get("/inbox/settings").status_code == 302


def test_mark_all_read(client, login_as, world):
    for n in range(3):
        notify(world.london_rep, NotificationKind.JOB_FINISHED, f"Job {n} finished.")
    db.session.commit()
    login_as(world.london_rep)
    done = submit(client, "/inbox/read-all", {}, form_url="/inbox/")
    assert done.status_code == 302 and all(n.read_at for n in _mine(world.london_rep))


# --- choices --------------------------------------------------------------------------------


def test_choices_are_kept_and_bad_ones_refused(client, login_as, world):
    login_as(world.london_rep)
    page = client.get("/inbox/settings")
    assert (
        page.status_code == 200
        and 'checked id="email_kinds-1" name="email_kinds" type="checkbox" value="deadline_due"' in page.text
    )
    refused = submit(client, "/inbox/settings", {"email_kinds": ["deadline_due", "launch_missiles"]})
    assert refused.status_code == 400 and "is not a valid choice" in refused.text
    assert count(NotificationSettings) == 0
    saved = submit(
        client, "/inbox/settings", {"email_kinds": ["deadline_due", "deadline_overdue"], "is_daily_digest": "y"}
    )
    assert saved.status_code == 302
    settings = db.session.get_one(NotificationSettings, world.london_rep.id)
    assert settings.email_kinds == ["deadline_due", "deadline_overdue"] and settings.is_daily_digest
    assert db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.NOTIFICATION_SETTINGS_CHANGED)
    ).one()


def test_each_person_chooses_what_is_emailed_and_the_digest_comes_once(app, world, mail_server):
    save_choices(world.london_rep, ["deadline_due"], False)
    save_choices(
        world.wales_rep,
        [k.value for k in NotificationKind],
        True,
    )
    db.session.commit()
    notify(
        world.london_rep,
        NotificationKind.DEADLINE_DUE,
        "CASE-2026-0001: Hearing is due today.",
        url="/cases/CASE-2026-0001",
    )
    notify(world.london_rep, NotificationKind.CASE_ASSIGNED, "Case CASE-2026-0001 has been assigned to you.")
    notify(world.wales_rep, NotificationKind.DEADLINE_DUE, "CASE-2026-0002: Hearing is due today.")
    notify(world.wales_rep, NotificationKind.CASE_ASSIGNED, "Case CASE-2026-0002 has been assigned to you.")
    db.session.commit()
    states = {(n.user_id, n.kind): n.email_state for n in db.session.scalars(select(Notification))}
    assert states[(world.london_rep.id, "case_assigned")] == EmailState.NONE  # inbox only
    assert states[(world.wales_rep.id, "deadline_due")] == EmailState.DIGEST

    single = deliver_pending()
    assert (single.emails, single.notifications) == (1, 1)
    (body,) = mail_server.bodies_to("rep.london@example.org")
    assert (
        "CASE-2026-0001: Hearing is due today." in body and "https://tracker.example.org/cases/CASE-2026-0001" in body
    )
    assert "assigned" not in body
    assert mail_server.bodies_to("rep.wales@example.org") == []

    digests = send_digests(clock.today())
    assert (digests.emails, digests.notifications) == (1, 2)
    (digest,) = mail_server.bodies_to("rep.wales@example.org")
    assert "CASE-2026-0002: Hearing is due today." in digest and "CASE-2026-0002 has been assigned" in digest
    assert send_digests(clock.today()).emails == 0 and deliver_pending().emails == 0
    assert len(mail_server.messages) == 2


def test_a_refused_address_leaves_its_notifications_waiting(app, world, mail_server):
    notify(world.london_rep, NotificationKind.JOB_FINISHED, "Publishing (BRF1-26): finished.")
    notify(world.wales_rep, NotificationKind.JOB_FINISHED, "Publishing (BRF2-26): finished.")
    db.session.commit()
    mail_server.refuse = "rep.wales@example.org"
    import pytest

    from napo_tracker.mail import MailError

    with pytest.raises(MailError):
        deliver_pending()
    db.session.rollback()
    states = {n.user_id: n.email_state for n in db.session.scalars(select(Notification))}
    assert states == {world.london_rep.id: "sent", world.wales_rep.id: "pending"}
    mail_server.refuse = None
    assert deliver_pending().emails == 1


# --- the events -----------------------------------------------------------------------------


def test_a_case_assigned_to_a_rep_tells_them_and_not_the_one_who_assigned_it(client, login_as, world, mail_server):
    other_rep = factories.make_user("rep", [world.london], email="rep.two@example.org")
    case = factories.make_case(world.london_rep, world.london, assigned_rep_id=world.london_rep.id)
    assert _mine(world.london_rep) == []
    update_case(world.london_rep, case, expected_version=case.version, assigned_rep_id=other_rep.id)
    db.session.commit()
    (told,) = _mine(other_rep)
    assert told.kind == "case_assigned" and told.message == f"Case {case.reference} has been assigned to you."
    assert case.title not in told.message
    # Through a page, the e-mail goes once the request has committed (a job run in this process).
    login_as(world.london_rep)
    page = client.get("/cases/new")
    response = client.post(
        "/cases/new",
        data={
            **form_tokens(page.data),
            "region_id": str(world.london.id),
            "category": "pay",
            "title": "Unpaid overtime",
            "priority": "normal",
            "assigned_rep_id": str(other_rep.id),
        },
    )
    assert response.status_code == 302, response.text[-2000:]
    (body,) = mail_server.bodies_to("rep.two@example.org")
    assert "has been assigned to you" in body and "Unpaid overtime" not in body
    # The next request that tells someone sends its own e-mail too.
    page = client.get("/cases/new")
    data = {"region_id": str(world.london.id), "category": "pay", "title": "More", "priority": "normal"}
    client.post("/cases/new", data={**form_tokens(page.data), **data, "assigned_rep_id": str(other_rep.id)})
    assert len(mail_server.bodies_to("rep.two@example.org")) == 2


def test_testimonies_waiting_and_answers_are_told_once_a_day_without_the_words(app, world, mail_server):
    testimony, _code = factories.make_testimony_with_code(WORDS)
    follow_up = ask_follow_up(world.official, testimony, "Is it still so?")
    db.session.commit()
    assert _mine(world.official) == []  # nothing at the moment the member wrote
    runner = app.test_cli_runner()
    result = runner.invoke(args=["notifications", "digest"])
    assert result.exit_code == 0, result.output
    (waiting,) = _mine(world.official)
    assert waiting.message == (
        f"Testimony {testimony.reference} (received {testimony.submitted_on:%-d %B %Y}) is waiting for moderation."
    )
    answer_follow_up(testimony, follow_up.id, "Yes, and Sam Jones still ignores it.")
    db.session.commit()
    runner.invoke(args=["notifications", "digest"])
    kinds = [n.kind for n in _mine(world.official)]
    assert kinds == ["testimony_waiting", "follow_up_answered"]
    assert runner.invoke(args=["notifications", "digest"]).output.startswith("0 notification(s) made")
    for body in mail_server.bodies_to("official@example.org"):
        assert "Sam Jones" not in body and "140" not in body and testimony.reference in body
    assert _mine(world.london_rep) == []  # reps do not moderate


def test_a_job_someone_asked_for_tells_them_when_it_ends(app, world):
    from napo_tracker.jobs.registry import HANDLERS, Outcome, job_handler
    from napo_tracker.kernel.errors import DomainError

    @job_handler("tests.ok", title="A test job")
    def ok(job):
        return Outcome("Done.")

    @job_handler("tests.refused", title="A refused job")
    def refused(job):
        raise DomainError("No.")

    try:
        enqueue("tests.ok", requested_by=world.official, subject="BRF1-26")
        db.session.commit()
        enqueue("tests.refused", requested_by=world.official, subject="BRF2-26")
        db.session.commit()
        enqueue("tests.ok", subject="")  # a regular run: nobody to tell
        db.session.commit()
        messages = [n.message for n in _mine(world.official)]
        assert messages == ["A test job (BRF1-26): finished.", "A refused job (BRF2-26): failed."]
        assert all(n.url and n.url.startswith("/jobs/") for n in _mine(world.official))
    finally:
        HANDLERS.pop("tests.ok", None)
        HANDLERS.pop("tests.refused", None)


def test_notifications_to_an_inactive_account_or_twice_with_one_key_are_not_made(world):
    world.wales_rep.is_active = False
    assert notify(world.wales_rep, NotificationKind.JOB_FINISHED, "x") is None
    assert notify(world.london_rep, NotificationKind.JOB_FINISHED, "x", key="k") is not None
    assert notify(world.london_rep, NotificationKind.JOB_FINISHED, "x", key="k") is None
    db.session.commit()
    assert count(Notification) == 1


def test_old_inbox_lines_page(client, login_as, world):
    for n in range(60):
        notify(world.london_rep, NotificationKind.JOB_FINISHED, f"Job J{n:02d} finished.")
    db.session.commit()
    login_as(world.london_rep)
    first = client.get("/inbox/").text
    assert "J59" in first and "J00" not in first and "Page 1 of 2" in first
    assert "J00" in client.get("/inbox/?page=2").text


def test_the_notice_reminders_also_reach_the_inbox_without_a_second_email(app, world, mail_server):
    from datetime import date

    from napo_tracker.notices.reminders import send_reminders

    notice = factories.make_served_notice(world.london_rep, world.london, date(2026, 3, 2))  # due 16 March
    send_reminders(date(2026, 3, 12))
    send_reminders(date(2026, 3, 13))  # the next day's e-mail; the inbox line is not repeated
    send_reminders(date(2026, 3, 17))
    told = _mine(world.london_rep)
    assert [n.message for n in told] == [
        f"Notice {notice.reference}: a response is due Mon 16 Mar 2026.",
        f"Notice {notice.reference}: a response was due Mon 16 Mar 2026 and is overdue.",
    ]
    assert {n.email_state for n in told} == {"none"}
    assert len(mail_server.bodies_to("rep.london@example.org")) == 3  # the reminders' own e-mails


def test_a_large_import_on_a_worker_tells_whoever_asked_when_it_ends(app, client, login_as, world):
    from napo_tracker.jobs.models import Job
    from napo_tracker.jobs.registry import title_of

    from ..evidence.test_import_jobs import _rows, _upload

    app.config["IMPORT_INLINE_BYTES"] = 2_000
    login_as(world.official)
    assert _upload(client, _rows(200)).status_code == 302
    login_as(world.london_rep)
    assert _upload(client, _rows(200, bad_at=(3,))).status_code == 302
    done, failed = db.session.scalars(select(Job).where(Job.name == "evidence.import").order_by(Job.id)).all()
    title = title_of("evidence.import")
    (official_told,) = _mine(world.official)
    assert official_told.message.startswith(f"{title}") and official_told.message.endswith(": finished.")
    assert official_told.url == f"/jobs/{done.id}" and official_told.kind == "job_finished"
    (rep_told,) = _mine(world.london_rep)
    assert rep_told.message.endswith(": failed.") and rep_told.url == f"/jobs/{failed.id}"
