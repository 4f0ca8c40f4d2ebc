"""Sign-in throttling per account, whoever is trying and from however many addresses.

Each failed password for an address (an address with no account counts the same, so the
answer never tells which accounts exist) makes the next attempt wait longer: nothing for
the first ``FREE_FAILURES``, then 1, 2, 4 … seconds, doubling up to ``MAX_DELAY``.
Attempts that come while the address waits are refused without checking the password.
At ``LOCK_AFTER`` failures the owner is told (content-free e-mail), and the delay stays at
its cap: a lock lasts at most ``MAX_DELAY``, so an attacker cannot keep an official out for
long, and a password reset lifts it at once. A good sign-in forgets the failures; failures
older than ``FORGET_AFTER`` are forgotten too. The client-address limit (Flask-Limiter)
still applies on top.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..kernel.clock import utcnow
from .models import LoginThrottle

FREE_FAILURES = 3
LOCK_AFTER = 10
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)


def _key(email: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"login-throttle:" + email.strip().lower().encode(), hashlib.sha256).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def delay_after(failures: int) -> timedelta:
    """How long the next attempt waits after this many failures in a row."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - FREE_FAILURES, 20)), MAX_DELAY)


def wait_for(email: str, now: datetime | None = None) -> timedelta | None:
    """How long sign-in for this address must still wait, or None when it may be tried now."""
    now = now or utcnow()
    throttle = db.session.get(LoginThrottle, _key(email))
    if throttle is None or throttle.blocked_until is None:
        return None
    remaining = _aware(throttle.blocked_until) - now
    return remaining if remaining > timedelta(0) else None


def record_failure(email: str, now: datetime | None = None) -> int:
    """Count a failed password for this address; returns the failures in a row so far."""
    now = now or utcnow()
    key = _key(email)
    throttle = db.session.get(LoginThrottle, key, with_for_update=True)
    if throttle is not None and now - _aware(throttle.last_failure_at) > FORGET_AFTER:
        throttle.failures = 0
        throttle.first_failure_at = now
    if throttle is None:
        throttle = LoginThrottle(key=key, failures=0, first_failure_at=now, last_failure_at=now)
        savepoint = db.session.begin_nested()
        try:
            db.session.add(throttle)
            db.session.flush()
        except IntegrityError:  # another worker counted this address's first failure at the same moment
            savepoint.rollback()
            throttle = db.session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
            assert throttle is not None
        else:
            savepoint.commit()
    throttle.failures += 1
    throttle.last_failure_at = now
    delay = delay_after(throttle.failures)
    throttle.blocked_until = now + delay if delay else None
    db.session.flush()
    return throttle.failures


def clear(email: str) -> None:
    """A good sign-in (or a password reset) forgets the address's failures."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == _key(email)))


def forget_old(now: datetime | None = None) -> int:
    """Drop rows whose last failure is older than ``FORGET_AFTER`` (kept tidy by the retention run)."""
    cutoff = (now or utcnow()) - FORGET_AFTER
    stale = list(db.session.scalars(select(LoginThrottle.key).where(LoginThrottle.last_failure_at < cutoff)))
    if stale:
        db.session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(stale)))
    return len(stale)
