"""Sign-in is throttled per address, whatever client addresses the attempts come from, and
the answer never tells whether an account exists."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from napo_tracker.accounts import throttle
from napo_tracker.accounts.models import LoginThrottle
from napo_tracker.accounts.services import authenticate
from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import utcnow

from ..factories import PASSWORD
from ..helpers import count, csrf_from


@pytest.fixture
def app_overrides():
    # The client-address limit is tested elsewhere; here it must not get in the way.
    return {"LOGIN_RATE_LIMIT": "1000 per minute", "PROXY_COUNT": 1}


def _try(client, email: str, password: str, address: str):
    token = csrf_from(client.get("/login").data)
    return client.post(
        "/login",
        headers={"X-Forwarded-For": address},
        data={"csrf_token": token, "email": email, "password": password},
    )


def test_guessing_from_many_addresses_is_slowed_and_then_the_real_password_waits_too(client, world):
    statuses = [
        _try(client, "official@example.org", f"guess number {n}", f"203.0.113.{n}").status_code for n in range(1, 26)
    ]
    assert statuses[: throttle.FREE_FAILURES] == [400] * throttle.FREE_FAILURES
    assert 429 in statuses  # later guesses were refused without being checked
    refused = _try(client, "official@example.org", PASSWORD, "198.51.100.1")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Too many attempts" in refused.text
    assert client.get("/").status_code == 302  # not signed in


def test_an_address_with_no_account_gets_exactly_the_same_answers(client, world):
    real = [_try(client, "official@example.org", "wrong guess", "203.0.113.9").status_code for _ in range(6)]
    made_up = [_try(client, "nobody.at.all@example.org", "wrong guess", "203.0.113.9").status_code for _ in range(6)]
    assert real == made_up
    assert count(LoginThrottle) == 2
    keys = list(db.session.scalars(select(LoginThrottle.key)))
    assert all("example.org" not in key for key in keys)  # the table names nobody


def test_the_delay_grows_and_is_capped(app):
    delays = [throttle.delay_after(n) for n in range(0, 40)]
    assert delays[: throttle.FREE_FAILURES] == [timedelta(0)] * throttle.FREE_FAILURES
    assert delays[throttle.FREE_FAILURES] == timedelta(seconds=1)
    assert delays[throttle.FREE_FAILURES + 3] == timedelta(seconds=8)
    assert all(later >= earlier for earlier, later in itertools.pairwise(delays))
    assert max(delays) == throttle.MAX_DELAY <= timedelta(minutes=15)


def test_the_wait_ends_and_a_good_password_then_clears_the_count(app, world):
    for _ in range(throttle.FREE_FAILURES + 1):
        assert authenticate("rep.london@example.org", "a wrong password").user is None
    waiting = authenticate("rep.london@example.org", PASSWORD)
    assert waiting.user is None and waiting.wait is not None
    row = db.session.scalars(select(LoginThrottle)).one()
    row.blocked_until = utcnow() - timedelta(seconds=1)  # the wait is over
    assert authenticate("rep.london@example.org", PASSWORD).user is not None
    db.session.flush()
    assert count(LoginThrottle) == 0


def test_old_failures_are_forgotten(app, world):
    for _ in range(throttle.FREE_FAILURES):
        authenticate("rep.london@example.org", "a wrong password")
    row = db.session.scalars(select(LoginThrottle)).one()
    row.last_failure_at = utcnow() - throttle.FORGET_AFTER - timedelta(minutes=1)
    row.blocked_until = None
    assert throttle.record_failure("rep.london@example.org") == 1
    assert throttle.forget_old(utcnow() + throttle.FORGET_AFTER + timedelta(minutes=1)) == 1


def test_the_owner_is_told_when_their_sign_in_is_locked(app, world, mail_server):
    for n in range(throttle.LOCK_AFTER + 2):
        # each failure comes after the previous wait is over
        db.session.execute(update(LoginThrottle).values(blocked_until=None))
        authenticate("rep.london@example.org", f"wrong {n}")
    told = mail_server.bodies_to("rep.london@example.org")
    assert len(told) == 1  # once, at the lock, not at every failure after it
    assert "signing in is paused" in told[0] and "https://tracker.example.org/login/forgot" in told[0]
    assert "wrong 1" not in told[0]  # content-free: not even the passwords tried
    locked = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.LOGIN_LOCKED)).all()
    assert len(locked) == 1 and locked[0].target_ref == str(world.london_rep.id)
