"""Signed-in sessions kept on the server, so that logging out really ends them.

The login cookie (and the "keep me logged in" cookie) carries ``<user id>:<token>``; the
table keeps a SHA-256 of the token. A session ends when its person logs out or signs out
everywhere, when their password changes or is reset, when an admin deactivates them, after
``SESSION_IDLE_TIMEOUT`` seconds without a request, or ``SESSION_ABSOLUTE_TIMEOUT`` seconds
after it began (a remembered device: ``REMEMBER_COOKIE_DURATION`` for both).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..extensions import db, login_manager
from ..kernel.clock import utcnow
from ..security import PUBLIC_ENDPOINTS
from .models import User, UserSession

# How often a session's "last seen" is written: not on every request.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
_BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)  # SQLite drops the zone


def describe_device(user_agent: str | None) -> str:
    """A short, coarse label for a device ("Firefox on Linux"): enough to recognise it, no more."""
    text = user_agent or ""
    browser = next((name for mark, name in _BROWSERS if mark in text), "A browser")
    system = next((name for mark, name in _SYSTEMS if mark in text), "")
    return f"{browser} on {system}" if system else browser


def _lifetimes(remember: bool) -> tuple[timedelta, timedelta]:
    """(idle, absolute) for a session."""
    config = current_app.config
    if remember:
        remembered = config["REMEMBER_COOKIE_DURATION"]
        remembered = remembered if isinstance(remembered, timedelta) else timedelta(seconds=int(remembered))
        return remembered, remembered
    return (
        timedelta(seconds=int(config["SESSION_IDLE_TIMEOUT"])),
        timedelta(seconds=int(config["SESSION_ABSOLUTE_TIMEOUT"])),
    )


def start_session(user: User, *, remember: bool = False, user_agent: str | None = None) -> str:
    """Open a session for ``user`` and return its token (kept only in the cookie)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    _idle, absolute = _lifetimes(remember)
    record = UserSession(
        user_id=user.id,
        token_hash=_hash(token),
        device=describe_device(user_agent),
        is_remembered=remember,
        created_at=now,
        last_seen_at=now,
        expires_at=now + absolute,
    )
    db.session.add(record)
    db.session.flush()
    user.session_token, user.login_session = token, record
    return token


def is_live(record: UserSession, now: datetime | None = None) -> bool:
    now = now or utcnow()
    idle, _absolute = _lifetimes(record.is_remembered)
    return record.ended_at is None and now < _aware(record.expires_at) and now - _aware(record.last_seen_at) < idle


def resume_session(cookie_value: str, *, touch: bool = True) -> User | None:
    """The user a login cookie names, if its session is live and the account active; ``touch``
    writes down the session's last use (at most once a minute)."""
    ident, _, token = cookie_value.partition(":")
    if not ident.isdigit() or not 20 <= len(token) <= 100 or not re.fullmatch(r"[A-Za-z0-9_-]+", token):
        return None
    # One query for the session, its user and the user's regions, which every page needs.
    stmt = (
        select(UserSession)
        .where(UserSession.token_hash == _hash(token))
        .options(joinedload(UserSession.user).joinedload(User.regions))
    )
    record = db.session.scalars(stmt).unique().one_or_none()
    if record is None or record.user_id != int(ident) or not is_live(record):
        return None
    user = record.user
    if not user.is_active:
        return None
    now = utcnow()
    if touch and now - _aware(record.last_seen_at) >= LAST_SEEN_RESOLUTION:
        record.last_seen_at = now
    user.session_token, user.login_session = token, record
    return user


@login_manager.user_loader
def _load_user(cookie_value: str) -> User | None:
    # A public page is no use of the account: a signed-in member who sends a testimony must not
    # leave its moment on their session (nor does a visit to the login page count as activity).
    return resume_session(cookie_value, touch=has_request_context() and request.endpoint not in PUBLIC_ENDPOINTS)


def end_session(record: UserSession | None) -> None:
    if record is not None and record.ended_at is None:
        record.ended_at = utcnow()
        db.session.flush()


def end_sessions(user: User, *, keep: UserSession | None = None) -> int:
    """End every live session of ``user`` (but ``keep``); returns how many were ended."""
    stmt = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep.id)
    result = db.session.execute(stmt.values(ended_at=utcnow()).execution_options(synchronize_session="fetch"))
    return int(getattr(result, "rowcount", 0) or 0)


def live_sessions(user: User) -> list[UserSession]:
    """The user's signed-in devices, most recently used first."""
    now = utcnow()
    records = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    return [record for record in records if is_live(record, now)]
