"""The deployment as real processes on this machine: PostgreSQL (a cluster in a temporary
folder), Debian's redis-server, gunicorn with four workers (deploy/gunicorn.conf.py), an RQ
worker and the scheduler (`flask jobs worker`, `flask jobs scheduler`), all under the
production configuration, as deploy/compose.yaml and deploy/systemd/ run them.

It proves that the login limit holds across gunicorn's workers; that a briefing publishes
through the queue; that a scheduled reminder runs; that a worker killed mid-job (SIGKILL)
leaves nothing half-written and the job runs again; and that while Redis is down pages
answer, /healthz says 503, and a job waits and runs once Redis is back.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from napo_tracker import create_app
from napo_tracker.audit.models import AuditEvent
from napo_tracker.briefings import services as briefing_services
from napo_tracker.briefings.models import Briefing, BriefingVersion
from napo_tracker.crypto import generate_key
from napo_tracker.extensions import db
from napo_tracker.jobs.models import Job
from napo_tracker.kernel.clock import today
from napo_tracker.notices.models import NoticeReminder
from tests import factories, pg, redis_server
from tests.conftest import BACKENDS, unavailable

from .processes import Browser, Process, kill_tree, start, stop, wait_for

pytestmark = pytest.mark.skipif(
    "postgresql" not in BACKENDS, reason="the deployment runs on PostgreSQL, which NAPO_TEST_BACKENDS leaves out"
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOGIN_LIMIT = 5


@dataclass
class Stack:
    app: Flask  # this test's own view of the same database and Redis
    env: dict[str, str]
    port: int
    logs: Path
    outbox: Path
    redis: redis_server.RedisServer
    web: Process
    scheduler: Process
    workers: list[Process]
    world: factories.World

    def start_worker(self) -> Process:
        name = f"worker-{len(self.workers) + 1}"
        argv = [sys.executable, "-m", "flask", "--app", "napo_tracker", "jobs", "worker", "--name", name]
        worker = start(name, argv, env=self.env, cwd=PROJECT_ROOT, logs=self.logs)
        self.workers.append(worker)
        return worker

    def browser(self, address: str) -> Browser:
        return Browser(self.port, address)

    def log_in(self, user, address: str) -> Browser:
        browser = self.browser(address)
        response = browser.post("/login", {"email": user.email, "password": factories.PASSWORD})
        assert response.status == 302, response.body[:500]
        if response.location.endswith("/login/two-factor"):
            response = browser.post("/login/two-factor", {"code": factories.totp_code(user)})
            assert response.status == 302, response.body[:500]
        return browser

    def diagnostics(self) -> str:
        return "\n\n".join(f"--- {p.name}\n{p.tail()}" for p in [self.web, self.scheduler, *self.workers])


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


@pytest.fixture(scope="module")
def stack(pg_server: pg.PostgresServer, tmp_path_factory) -> Iterator[Stack]:
    binary = redis_server.find_binary()
    if binary is None:
        unavailable("redis-server not found (make test installs Debian's redis-server)")
    from pytest_postgresql.janitor import DatabaseJanitor

    base = tmp_path_factory.mktemp("deployment")
    logs, outbox, files = base / "logs", base / "mail", base / "files"
    for folder in (logs, outbox, files):
        folder.mkdir()
    dbname = f"napo_deploy_{os.getpid()}"
    janitor = DatabaseJanitor(user=pg_server.user, host=pg_server.host, port=pg_server.port, dbname=dbname)
    janitor.init()
    redis = redis_server.start(binary)
    database_url = pg_server.url(dbname)
    data_key = generate_key()
    env = {name: value for name, value in os.environ.items() if not name.startswith("NAPO_")}
    env.update(
        NAPO_CONFIG="production",
        NAPO_SECRET_KEY=secrets.token_urlsafe(48),
        NAPO_DATA_KEYS=data_key,
        NAPO_DATABASE_URL=database_url,
        NAPO_REDIS_URL=redis.url,
        NAPO_RATELIMIT_STORAGE_URI=redis.url,
        NAPO_PROXY_COUNT="1",
        NAPO_LOGIN_RATE_LIMIT=f"{LOGIN_LIMIT} per minute",
        NAPO_JOBS_HEARTBEAT="1",  # a silent run is taken for dead after 3 seconds
        NAPO_JOBS_SCHEDULE='{"notices.remind": "* * * * * */2", "testimonies.purge": ""}',  # every 2 seconds
        NAPO_MAIL_OUTBOX_DIR=str(outbox),
        NAPO_INSTANCE_FILES_DIR=str(files),
        NAPO_PUBLIC_BASE_URL="https://tracker.test",
        PYTHONUNBUFFERED="1",
    )
    processes: list[Process] = []
    context = None
    try:
        # As the compose file's "migrate" service and the web unit's ExecStartPre do.
        migrate = start(
            "migrate",
            [sys.executable, "-m", "flask", "--app", "napo_tracker", "db", "upgrade"],
            env=env,
            cwd=PROJECT_ROOT,
            logs=logs,
        )
        assert migrate.popen.wait(120) == 0, migrate.tail()

        app = create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=database_url,
            DATA_KEYS=data_key,
            REDIS_URL=redis.url,
            INSTANCE_FILES_DIR=str(files),
        )
        context = app.app_context()
        context.push()
        world = factories.make_world()
        # Overdue since long ago: the scheduled reminders have something to send.
        factories.make_notice(
            world.london_rep, world.london, served_on=today().replace(day=1).replace(year=today().year - 1)
        )

        port = redis_server.free_port()
        web = start(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "deploy/gunicorn.conf.py",
                "-w",
                "4",
                "-b",
                f"127.0.0.1:{port}",
                "--access-logfile",
                str(logs / "access.log"),
                "--access-logformat",
                "%(p)s %(m)s %(U)s %(s)s",
                "wsgi:app",
            ],
            env=env,
            cwd=PROJECT_ROOT,
            logs=logs,
        )
        processes.append(web)
        scheduler = start(
            "scheduler",
            [sys.executable, "-m", "flask", "--app", "napo_tracker", "jobs", "scheduler"],
            env=env,
            cwd=PROJECT_ROOT,
            logs=logs,
        )
        processes.append(scheduler)
        built = Stack(app, env, port, logs, outbox, redis, web, scheduler, [], world)
        processes.append(built.start_worker())
        health = built.browser("192.0.2.1")
        wait_for(lambda: _healthy(health), "gunicorn answering /healthz with 200", timeout=90)
        yield built
        processes[:] = [built.web, built.scheduler, *built.workers]
    finally:
        for process in processes:
            stop(process)
        if context is not None:
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
            context.pop()
        redis_server.remove(redis)
        janitor.drop()


def _healthy(browser: Browser) -> bool:
    try:
        return browser.get("/healthz").status == 200
    except OSError:
        return False


def test_gunicorn_runs_four_workers(stack):
    from tests.deploy.processes import descendants

    assert len(descendants(stack.web.popen.pid)) >= 4, stack.diagnostics()


def test_the_login_limit_holds_across_workers(stack):
    visitor = stack.browser("198.51.100.7")
    token = visitor.csrf("/login")
    statuses: list[int] = []

    def attempt(number: int) -> None:
        response = visitor.request(
            "POST", "/login", {"csrf_token": token, "email": f"nobody{number}@example.org", "password": "wrong" * 3}
        )
        statuses.append(response.status)

    # Twice the limit at once: in flight together, they are spread over gunicorn's four workers.
    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(2 * LOGIN_LIMIT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [400] * LOGIN_LIMIT + [429] * LOGIN_LIMIT, stack.diagnostics()
    attempt(99)
    assert statuses[-1] == 429
    workers = {
        line.split()[0] for line in (stack.logs / "access.log").read_text().splitlines() if " POST /login " in line
    }
    assert len(workers) >= 2  # the attempts were answered by more than one worker, and still counted together
    # Another address is not held back by this one's attempts.
    assert stack.browser("198.51.100.8").post("/login", {"email": "x@example.org", "password": "y" * 12}).status == 400


def test_a_briefing_publishes_through_the_queue(stack):
    briefing = factories.make_publishable_briefing(stack.world.official)
    official = stack.log_in(stack.world.official, "203.0.113.10")
    url = f"/briefings/{briefing.reference}"
    response = official.post(f"{url}/publish", {"expected_version": str(briefing.version)}, form_page=url)
    assert response.status == 302 and response.location.startswith("/jobs/"), response.body[:300]
    job_page = response.location

    def published():
        page = official.get(job_page)
        return page if page.status == 302 else None

    done = wait_for(published, "the job page sending the official to the published briefing", timeout=90)
    assert done.location == url, stack.diagnostics()
    assert "version 1 published" in official.get(url).body
    pdf = official.get(f"{url}.pdf")
    assert pdf.status == 200 and pdf.body.startswith("%PDF")
    assert fresh(Briefing, briefing.id).published_versions[0].number == 1


def test_a_scheduled_reminder_runs(stack):
    def reminded():
        db.session.expire_all()
        return db.session.scalar(select(func.count()).select_from(NoticeReminder))

    wait_for(reminded, "the scheduler's reminder run, on a worker", timeout=60)
    job = db.session.scalars(select(Job).where(Job.name == "notices.remind", Job.status == "done")).first()
    assert job is not None and job.requested_by_id is None and job.result_note.startswith("Sent 1 reminder")
    messages = list(stack.outbox.glob("*.eml"))
    assert len(messages) == 1 and "rep.london@example.org" in messages[0].read_text()


def test_a_worker_killed_mid_job_leaves_nothing_half_written_and_the_job_runs_again(stack):
    # Long enough to render that the worker can be killed half-way through (a few seconds).
    briefing = factories.make_publishable_briefing(stack.world.official, sections=8, paragraphs=6)
    job = briefing_services.request_publish(stack.world.official, briefing, expected_version=briefing.version)
    db.session.commit()
    job_id = job.id

    def rendering():
        current = fresh(Job, job_id)
        return current is not None and current.progress_note == "Rendering the PDF"

    wait_for(rendering, "the worker rendering the PDF", timeout=60, every=0.05)
    worker = stack.workers[-1]
    killed = kill_tree(worker, signal.SIGKILL)
    assert len(killed) >= 2  # the worker, its work horse (and the horse's renderer)
    worker.popen.wait(10)

    running = fresh(Job, job_id)
    assert running.status == "running" and running.attempts == 1
    assert fresh(Briefing, briefing.id).is_draft
    assert (
        db.session.scalar(
            select(func.count()).select_from(BriefingVersion).where(BriefingVersion.briefing_id == briefing.id)
        )
        == 0
    )
    published = (
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "briefing:published", AuditEvent.target_ref == briefing.reference)
    )
    assert db.session.scalar(published) == 0

    stack.start_worker()  # as systemd's Restart=always or compose's restart policy would

    def done():
        current = fresh(Job, job_id)
        return current if current.status == "done" else None

    finished = wait_for(done, "the job run again by the new worker", timeout=120)
    assert finished.attempts == 2, stack.diagnostics()
    assert len(fresh(Briefing, briefing.id).published_versions) == 1
    assert db.session.scalar(published) == 1


def test_while_redis_is_down_pages_answer_and_jobs_wait_for_it(stack):
    briefing = factories.make_publishable_briefing(stack.world.official)
    official = stack.log_in(stack.world.official, "203.0.113.20")
    url = f"/briefings/{briefing.reference}"
    tokens = official.tokens(url)
    stack.redis.stop()
    try:
        assert official.get("/").status == 200
        health = official.get("/healthz")
        assert health.status == 503 and '"redis":"unreachable"' in health.body.replace(" ", "")
        response = official.request("POST", f"{url}/publish", {**tokens, "expected_version": str(briefing.version)})
        assert response.status == 302 and response.location.startswith("/jobs/")
        assert "Waiting for its turn" in official.get(response.location).body
    finally:
        stack.redis.start()

    def published():
        page = official.get(response.location)
        return page if page.status == 302 else None

    wait_for(published, "the waiting job run once Redis was back:\n" + stack.diagnostics(), timeout=90)
    assert len(fresh(Briefing, briefing.id).published_versions) == 1
    wait_for(lambda: _healthy(official), "/healthz back to 200", timeout=30)
