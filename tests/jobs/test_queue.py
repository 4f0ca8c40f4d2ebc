"""Jobs on a real Redis with RQ's own worker: queued, run, retried with back-off, taken back
when their worker dies, waiting while Redis is down, and run once however often they are sent."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from rq.registry import FailedJobRegistry
from sqlalchemy import select, update

from napo_tracker.briefings import services as briefing_services
from napo_tracker.briefings.models import Briefing, BriefingVersion
from napo_tracker.extensions import db
from napo_tracker.jobs import queue, runner
from napo_tracker.jobs.entry import start_scheduled
from napo_tracker.jobs.models import Job
from napo_tracker.jobs.registry import Outcome
from napo_tracker.jobs.schedule import run_scheduler, schedule_of
from napo_tracker.jobs.services import enqueue
from napo_tracker.kernel.clock import today, utcnow
from napo_tracker.kernel.errors import ConfigurationError
from napo_tracker.kernel.transaction import command_transaction
from napo_tracker.notices.models import ForeseeabilityNotice, NoticeReminder
from tests.helpers import count, submit

from .conftest import the_job, work


@pytest.fixture
def app_overrides(redis_url):
    return {"REDIS_URL": redis_url, "JOBS_RETRY_DELAY": 30, "JOBS_HEARTBEAT": 10}


def no_rq_failures(app) -> bool:
    return FailedJobRegistry(queue=queue.queue(app)).count == 0


def publish_through_the_page(client, briefing: Briefing):
    url = f"/briefings/{briefing.reference}"
    return submit(client, f"{url}/publish", {"expected_version": briefing.version}, form_url=url)


def test_a_publish_waits_for_a_worker_and_its_page_refreshes_itself_until_done(
    app, client, login_as, world, publishable
):
    login_as(world.official)
    response = publish_through_the_page(client, publishable)
    job_url = response.headers["Location"]
    waiting = client.get(job_url)
    text = waiting.get_data(as_text=True)
    assert waiting.status_code == 200 and "Waiting for its turn" in text
    assert '<meta http-equiv="refresh" content="2">' in text and "<script" not in text.split("</head>")[0]
    assert the_job().status == "queued" and count(BriefingVersion) == 0
    assert queue.is_on_its_way(the_job().id, 0, app)

    work(app)
    done = client.get(job_url, follow_redirects=True)
    assert done.request.path == f"/briefings/{publishable.reference}"
    assert "version 1 published" in done.get_data(as_text=True)
    assert count(BriefingVersion) == 1 and no_rq_failures(app)


def test_a_running_job_shows_how_far_it_has_got(app, client, login_as, world, publishable, monkeypatch):
    """While the PDF renders, the page reads the job's progress, written outside the work's transaction."""
    seen: list[tuple[str, int, str]] = []
    real_to_pdf = briefing_services._to_pdf

    def watched(html: str) -> bytes:
        login_as(world.official)
        page = client.get(f"/jobs/{the_job().id}").get_data(as_text=True)
        job = the_job()
        seen.append((job.status, job.progress, job.progress_note))
        assert "Rendering the PDF" in page and 'value="35"' in page and 'http-equiv="refresh"' in page
        return real_to_pdf(html)

    monkeypatch.setattr(briefing_services, "_to_pdf", watched)
    briefing_services.request_publish(world.official, publishable, expected_version=publishable.version)
    db.session.commit()
    work(app)
    assert seen == [("running", 35, "Rendering the PDF")]
    assert the_job().status == "done"


def test_a_duplicate_request_and_a_duplicate_message_make_one_pdf(app, client, login_as, world, publishable):
    login_as(world.official)
    first = publish_through_the_page(client, publishable)
    second = publish_through_the_page(client, publishable)  # a second click before any worker ran
    assert first.headers["Location"] == second.headers["Location"]
    assert count(Job) == 1
    queue.push(the_job().id, 0, app)  # and the message sent twice
    work(app)
    assert count(BriefingVersion) == 1 and the_job().status == "done" and the_job().attempts == 1
    assert no_rq_failures(app)


def test_a_job_record_deleted_before_its_worker_came_ends_cleanly(app, world, publishable):
    job = briefing_services.request_publish(world.official, publishable, expected_version=publishable.version)
    db.session.commit()
    db.session.delete(job)
    db.session.commit()
    work(app)
    assert count(Job) == 0 and count(BriefingVersion) == 0 and no_rq_failures(app)


def test_a_job_whose_notice_was_deleted_meanwhile_is_not_needed(app, world, make_notice):
    notice = make_notice()
    enqueue("notices.serve", notice.id, today().isoformat(), requested_by=world.london_rep, subject=notice.reference)
    db.session.commit()
    db.session.delete(db.session.get(ForeseeabilityNotice, notice.id))
    db.session.commit()
    work(app)
    job = the_job()
    assert (job.status, job.result_note, job.key) == ("cancelled", "The notice no longer exists.", None)
    assert no_rq_failures(app)


def test_a_failing_job_is_retried_after_a_back_off_then_kept_failed_with_nothing_half_done(
    app, world, publishable, monkeypatch
):
    def disk_full(html: str) -> bytes:
        raise OSError("No space left on device")

    monkeypatch.setattr(briefing_services, "_to_pdf", disk_full)
    briefing_services.request_publish(world.official, publishable, expected_version=publishable.version)
    db.session.commit()

    work(app)
    job = the_job()
    assert (job.status, job.attempts, job.error) == ("queued", 1, "OSError: No space left on device")
    assert 25 < seconds_until_due(job) <= 30  # JOBS_RETRY_DELAY
    assert runner.sweep(app).sent == 0  # not due: nothing sent ...
    queue.push(job.id, 1, app)
    work(app)
    assert the_job().attempts == 1  # ... and a message that comes early is not taken

    let_the_back_off_pass(job)
    assert runner.sweep(app).sent == 1
    work(app)
    job = the_job()
    assert (job.status, job.attempts) == ("queued", 2)
    assert 115 < seconds_until_due(job) <= 120  # four times longer

    let_the_back_off_pass(job)
    runner.sweep(app)
    work(app)
    job = the_job()
    assert (job.status, job.attempts, job.key) == ("failed", 3, None)
    assert "No space left on device" in job.error
    assert runner.sweep(app).sent == 0  # failed for good: never sent again
    stored = db.session.get(Briefing, publishable.id)
    assert stored is not None and stored.is_draft and stored.published_versions == []
    assert no_rq_failures(app)


def seconds_until_due(job: Job) -> float:
    assert job.run_after is not None
    return (job.run_after.replace(tzinfo=None) - utcnow().replace(tzinfo=None)).total_seconds()


def let_the_back_off_pass(job: Job) -> None:
    """As if the clock had moved on to the job's next attempt."""
    db.session.execute(update(Job).where(Job.id == job.id).values(run_after=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_a_run_whose_worker_died_is_taken_back_and_its_replacement_alone_commits(app, world, publishable):
    briefing_services.request_publish(world.official, publishable, expected_version=publishable.version)
    db.session.commit()
    job_id = the_job().id
    # A worker claims the job, then dies before finishing: its heartbeat stops.
    dead_claim = runner._claim(job_id, due_only=True)
    assert dead_claim is not None and the_job().status == "running"
    assert runner.sweep(app).taken_back == 0  # still within its heartbeats
    taken = runner.sweep(app, now=utcnow() + timedelta(seconds=31))
    assert (taken.taken_back, taken.sent) == (1, 1)  # a new message, for its second attempt
    job = the_job()
    assert job.status == "queued" and "The worker running it stopped" in job.error

    work(app)
    assert (the_job().status, the_job().attempts) == ("done", 2) and count(BriefingVersion) == 1
    # The first run, had it only been slow, cannot now commit over its replacement.
    with pytest.raises(runner._LostClaim), command_transaction():
        runner._mark_done(dead_claim, Outcome("late"))
    assert the_job().result_note.startswith(publishable.reference)


def test_a_job_whose_worker_dies_three_times_is_kept_failed(app, world, publishable):
    briefing_services.request_publish(world.official, publishable, expected_version=publishable.version)
    db.session.commit()
    job_id = the_job().id
    for attempt in range(1, 4):
        assert runner._claim(job_id, due_only=True) is not None
        runner.sweep(app, now=utcnow() + timedelta(seconds=31 * attempt))
    job = the_job()
    assert (job.status, job.attempts, job.key) == ("failed", 3, None)
    assert "stopped, 3 times" in job.error and count(BriefingVersion) == 0


def test_while_redis_is_down_pages_answer_jobs_wait_and_health_says_503(
    app, client, login_as, world, publishable, redis_service
):
    login_as(world.official)
    redis_service.stop()
    try:
        response = publish_through_the_page(client, publishable)
        assert response.status_code == 302  # recorded; its message could not be sent
        assert the_job().status == "queued"
        assert "Waiting for its turn" in client.get(response.headers["Location"]).get_data(as_text=True)
        assert client.get("/").status_code == 200
        assert client.get("/jobs/", follow_redirects=False).status_code == 403  # an official: not an admin page
        health = client.get("/healthz")
        assert health.status_code == 503
        body = health.get_json()
        assert body["status"] == "unavailable" and body["database"] == "ok" and body["redis"] == "unreachable"
        assert body["jobs"]["waiting"] == 1
        # The login page counts attempts in memory meanwhile, rather than failing.
        assert client.get("/login").status_code in (200, 302)
        assert runner.sweep(app).sent == 0
    finally:
        redis_service.start()
    assert runner.sweep(app).sent == 1  # Redis is back: the scheduler's next round sends it
    work(app)
    assert the_job().status == "done" and count(BriefingVersion) == 1
    assert client.get("/healthz").status_code == 200


def test_health_reports_the_queue(app, client, world, publishable):
    briefing_services.request_publish(world.official, publishable, expected_version=publishable.version)
    db.session.commit()
    time.sleep(0.05)
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["redis"] == "ok"
    assert body["queue"]["depth"] == 1 and body["queue"]["oldest_age_seconds"] >= 0
    assert body["jobs"]["waiting"] == 1 and body["jobs"]["oldest_waiting_seconds"] >= 0
    work(app)
    body = client.get("/healthz").get_json()
    assert body["queue"]["depth"] == 0 and body["queue"]["oldest_age_seconds"] is None
    assert body["jobs"]["waiting"] == 0


def test_a_scheduled_tick_records_its_job_once_and_a_worker_runs_it(app, world, make_notice, mail_server):
    make_notice(served_on=today() - timedelta(days=40))
    start_scheduled("notices.remind")
    start_scheduled("notices.remind")  # a second scheduler, or a second tick in the same minute
    assert count(Job) == 1
    work(app)
    assert the_job().status == "done" and count(NoticeReminder) == 1
    assert len(mail_server.messages) == 1


def test_the_scheduler_starts_a_regular_job_on_its_cron_line(app, world, make_notice, mail_server, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")  # the scheduler sets the union's; this puts the test process back
    app.config.update(JOBS_SCHEDULE={"notices.remind": "* * * * * *"}, JOBS_HEARTBEAT=0.2)  # every second
    make_notice(served_on=today() - timedelta(days=40))
    stop = threading.Event()
    scheduler = threading.Thread(target=run_scheduler, args=(app, stop), daemon=True)
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and queue.queue(app).count == 0:
            time.sleep(0.05)
    finally:
        stop.set()
        scheduler.join(5)
        time.tzset()
    work(app)  # runs the tick, which records the job and sends it; then the job itself
    job = db.session.scalars(select(Job).where(Job.name == "notices.remind")).first()
    assert job is not None and job.status == "done" and job.requested_by_id is None
    assert count(NoticeReminder) == 1


@pytest.mark.parametrize(
    "schedule, message",
    [
        ({"notices.shred": "0 7 * * *"}, "names 'notices.shred', which is not a job"),
        ({"notices.remind": "at seven"}, "is not a cron line"),
        ({"notices.remind": "61 7 * * *"}, "is not a cron line"),
        ("notices.remind", "must map job names to cron lines"),
    ],
)
def test_a_bad_schedule_is_refused_with_a_message(app, schedule, message):
    app.config["JOBS_SCHEDULE"] = schedule
    with pytest.raises(ConfigurationError, match=message):
        schedule_of(app)
    result = app.test_cli_runner().invoke(args=["jobs", "scheduler"])
    assert result.exit_code != 0 and message in str(result.exception or result.output)


def test_the_schedule_may_switch_a_job_off(app):
    app.config["JOBS_SCHEDULE"] = {"notices.remind": "", "testimonies.purge": "30 2 * * *"}
    assert schedule_of(app) == {"testimonies.purge": "30 2 * * *"}


def test_the_worker_command_forks_a_horse_per_job_and_runs_them(app, world, publishable):
    briefing_services.request_publish(world.official, publishable, expected_version=publishable.version)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert the_job().status == "done" and count(BriefingVersion) == 1 and no_rq_failures(app)


def test_the_worker_and_scheduler_commands_need_redis(app):
    app.config["REDIS_URL"] = None
    for command in ("worker", "scheduler"):
        result = app.test_cli_runner().invoke(args=["jobs", command])
        assert result.exit_code == 1 and "NAPO_REDIS_URL is not set" in result.output
