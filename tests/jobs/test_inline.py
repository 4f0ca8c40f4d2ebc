"""Jobs without Redis (the embedded default): each runs in the web process as soon as the
request that asked for it has committed, so the person lands on the result as before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from napo_tracker.briefings import services as briefing_services
from napo_tracker.briefings.models import Briefing, BriefingVersion
from napo_tracker.extensions import db
from napo_tracker.jobs.models import Job
from napo_tracker.jobs.services import enqueue
from napo_tracker.kernel.clock import today, utcnow
from napo_tracker.notices import services as notice_services
from napo_tracker.notices.models import ForeseeabilityNotice, NoticeReminder
from tests import factories
from tests.helpers import count, submit

from .conftest import the_job


def publish_through_the_page(client, briefing: Briefing, **kwargs):
    url = f"/briefings/{briefing.reference}"
    return submit(client, f"{url}/publish", {"expected_version": briefing.version}, form_url=url, **kwargs)


def test_publishing_runs_at_once_and_the_job_page_takes_the_asker_to_the_briefing(client, login_as, world, publishable):
    login_as(world.official)
    response = publish_through_the_page(client, publishable)
    assert response.status_code == 302
    job = the_job()
    assert response.headers["Location"] == f"/jobs/{job.id}"
    assert (job.status, job.attempts, job.progress, job.requested_by_id) == ("done", 1, 100, world.official.id)
    assert job.result_url == f"/briefings/{publishable.reference}"

    page = client.get(f"/jobs/{job.id}", follow_redirects=True)
    assert page.request.path == f"/briefings/{publishable.reference}"
    assert f"{publishable.reference} version 1 published. Its PDF is now frozen." in page.get_data(as_text=True)
    assert count(BriefingVersion) == 1
    assert client.get(f"/briefings/{publishable.reference}.pdf").data.startswith(b"%PDF")


def test_serving_a_notice_makes_and_freezes_its_letter_in_a_job(client, login_as, world, make_notice):
    notice = make_notice()
    login_as(world.london_rep)
    url = f"/notices/{notice.reference}"
    response = submit(
        client, f"{url}/serve", {"serve-served_on": today().isoformat()}, form_url=url, field="serve-csrf_token"
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"], follow_redirects=True)
    assert page.request.path == url
    assert f"Notice {notice.reference} served. A written response is due by" in page.get_data(as_text=True)
    stored = db.session.get(ForeseeabilityNotice, notice.id)
    assert stored is not None and stored.status == "served" and stored.letter_pdf is not None
    assert stored.letter_pdf.startswith(b"%PDF")


def test_a_future_service_date_is_refused_on_the_form_and_asks_for_no_job(client, login_as, world, make_notice):
    notice = make_notice()
    login_as(world.london_rep)
    url = f"/notices/{notice.reference}"
    tomorrow = (today() + timedelta(days=1)).isoformat()
    response = submit(client, f"{url}/serve", {"serve-served_on": tomorrow}, form_url=url, field="serve-csrf_token")
    assert response.status_code == 400 and "cannot be in the future" in response.get_data(as_text=True)
    assert count(Job) == 0


def test_a_briefing_a_check_blocks_asks_for_no_job(client, login_as, world):
    empty = factories.make_briefing(world.official)
    login_as(world.official)
    response = publish_through_the_page(client, empty, follow_redirects=True)
    assert "cannot be published yet" in response.get_data(as_text=True)
    assert count(Job) == 0


def test_a_job_page_is_shown_to_its_asker_and_to_admins_only(client, login_as, world, publishable):
    other_official = factories.make_user("official")
    job = briefing_services.request_publish(world.official, publishable, expected_version=publishable.version)
    db.session.commit()
    for outsider in (other_official, world.london_rep):
        login_as(outsider)
        assert client.get(f"/jobs/{job.id}").status_code == 404
    assert client.get("/jobs/999999").status_code == 404
    login_as(world.admin)
    page = client.get(f"/jobs/{job.id}")  # an admin reads it, and is not sent on
    assert page.status_code == 200 and "Done." in page.get_data(as_text=True)


def test_asking_twice_before_the_job_runs_is_one_job(world, publishable):
    first = briefing_services.request_publish(world.official, publishable, expected_version=publishable.version)
    second = briefing_services.request_publish(world.official, publishable, expected_version=publishable.version)
    assert first is second
    db.session.commit()
    assert count(Job) == 1 and count(BriefingVersion) == 1


def test_a_briefing_changed_after_the_request_is_not_published_and_the_asker_is_told(world, publishable):
    enqueue("briefings.publish", publishable.id, publishable.version - 1, requested_by=world.official)
    db.session.commit()
    job = the_job()
    assert (job.status, job.attempts, job.key) == ("failed", 1, None)  # a refusal is not tried again
    assert "Someone else changed" in job.error
    assert count(BriefingVersion) == 0


def test_an_account_deactivated_since_it_asked_does_nothing_more(world, publishable):
    world.official.is_active = False
    enqueue("briefings.publish", publishable.id, publishable.version, requested_by=world.official)
    db.session.commit()
    job = the_job()
    assert job.status == "failed" and "deactivated" in job.error
    assert count(BriefingVersion) == 0


def test_a_job_whose_record_was_deleted_meanwhile_ends_as_not_needed(world):
    enqueue("notices.serve", 987654, today().isoformat(), requested_by=world.london_rep, subject="NTC-GONE")
    db.session.commit()
    job = the_job()
    assert (job.status, job.result_note, job.error) == ("cancelled", "The notice no longer exists.", "")


def test_a_job_failing_three_times_is_kept_failed_for_admins_with_nothing_half_done(
    client, login_as, world, publishable, monkeypatch
):
    def disk_full(html: str) -> bytes:
        raise OSError("No space left on device")

    monkeypatch.setattr(briefing_services, "_to_pdf", disk_full)
    briefing_services.request_publish(world.official, publishable, expected_version=publishable.version)
    db.session.commit()
    job = the_job()
    assert (job.status, job.attempts, job.key) == ("failed", 3, None)
    assert job.error == "OSError: No space left on device"
    stored = db.session.get(Briefing, publishable.id)
    assert stored is not None and stored.is_draft and stored.published_versions == []

    login_as(world.london_rep)
    assert client.get("/jobs/").status_code == 403
    login_as(world.admin)
    admin_page = client.get("/jobs/").get_data(as_text=True)
    assert "OSError: No space left on device" in admin_page and publishable.reference in admin_page
    login_as(world.official)
    own_page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "It could not be done, and nothing of it was kept" in own_page and 'http-equiv="refresh"' not in own_page

    # Asking again (the disk has room now) is a new job, which publishes once.
    monkeypatch.undo()
    briefing_services.request_publish(world.official, stored, expected_version=stored.version)
    db.session.commit()
    assert count(Job) == 2 and count(BriefingVersion) == 1


def test_the_regular_jobs_run_as_their_commands_do(app, world, make_notice, mail_server):
    overdue = make_notice(served_on=today() - timedelta(days=40))
    enqueue("notices.remind")
    db.session.commit()
    job = the_job()
    assert job.status == "done" and job.result_note == "Sent 1 reminder e-mail(s) covering 1 notice(s)."
    assert overdue.reference in mail_server.bodies_to("rep.london@example.org")[0]
    assert count(NoticeReminder) == 1

    enqueue("testimonies.purge")
    db.session.commit()
    assert (
        db.session.scalars(select(Job.result_note).where(Job.name == "testimonies.purge"))
        .one()
        .startswith("Erased 0 original(s)")
    )


def test_an_unknown_job_is_refused_when_asked_for(app):
    with pytest.raises(ValueError, match=r"no job called 'briefings\.shred'"):
        enqueue("briefings.shred")
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_a_run_that_died_with_its_process_is_ended_when_asked_again(world, make_notice):
    """Without Redis no scheduler watches: a serve whose web process died half-way would hold
    its key for ever. Asked again once silent for three heartbeats, it is ended and run anew."""
    notice = make_notice()
    dead = Job(
        name="notices.serve",
        args=[notice.id, today().isoformat()],
        key=f"notices.serve:{notice.id}",
        status="running",
        attempts=1,
        heartbeat_at=utcnow() - timedelta(seconds=31),
        requested_by_id=world.london_rep.id,
    )
    db.session.add(dead)
    db.session.commit()
    job = notice_services.request_service(world.london_rep, notice, today())
    assert job is not dead
    db.session.commit()
    db.session.expire_all()
    assert (dead.status, dead.key) == ("failed", None) and "stopped" in dead.error
    served = db.session.get(ForeseeabilityNotice, notice.id)
    assert job.status == "done" and served is not None and served.status == "served"


def test_a_run_still_alive_is_returned_and_a_waiting_one_is_run(world, make_notice):
    notice = make_notice()
    waiting = Job(
        name="notices.serve",
        args=[notice.id, today().isoformat()],
        key=f"notices.serve:{notice.id}",
        status="queued",
        requested_by_id=world.london_rep.id,
    )
    db.session.add(waiting)
    db.session.commit()
    assert notice_services.request_service(world.london_rep, notice, today()) is waiting
    db.session.commit()  # its message may have been lost: it is handed on again, and runs
    db.session.expire_all()
    assert waiting.status == "done" and count(Job) == 1
