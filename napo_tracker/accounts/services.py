"""Accounts: creating, changing and authenticating users."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit.models import AuditAction, record
from ..extensions import db
from ..forms import has_forbidden_characters
from ..kernel.clock import utcnow
from ..kernel.errors import DomainError
from ..kernel.vocabulary import Role
from ..regions.models import Region
from ..regions.scoping import RegionalUser, scope_to_regions
from . import throttle
from .models import User, user_by_email, user_regions
from .passwords import check_password, hash_password
from .resets import tell_owner_of_lock
from .sessions import end_sessions

# Checked against when the email is unknown, so both paths take as long.
_DUMMY_HASH: dict[str, str] = {}


class AccountError(DomainError):
    """A change to an account that breaks a rule; the message is shown to the user."""


class NotAnAdmin(AccountError):
    """Someone other than an admin reached for an admin's work on accounts."""

    status_code = 403


def _require_admin(actor) -> None:
    """Accounts are made and changed by admins; ``actor`` None is a command run on the server."""
    if actor is not None and not actor.is_admin:
        raise NotAnAdmin("Only admins create and change accounts.")


# A plain syntax check: one @, something before it, a dotted domain after it, no spaces.
# (Forms also run WTForms' Email validator; the CLI and demo data come through here only.)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    """Lower-cased and trimmed, so that one address can hold only one account whatever its case."""
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email) or has_forbidden_characters(email):
        raise AccountError(f"{email[:80]!r} is not a valid email address.")
    return email


def _regions_or_error(role: str, regions: Iterable[Region]) -> list[Region]:
    regions = list(regions)
    if role == Role.REP and not regions:
        raise AccountError("A rep needs at least one region.")
    # Officials and admins see every region; a list for them would mislead.
    return regions if role == Role.REP else []


def create_user(
    actor, *, email: str, display_name: str, role: str, password: str, regions: Iterable[Region] = ()
) -> User:
    """Create an account. Emails are unique whatever their case; reps need a region."""
    email = normalise_email(email)
    _require_admin(actor)
    if not Role.has_value(role):
        raise AccountError(f"Unknown role {role!r}: choose rep, official or admin.")
    if user_by_email(email) is not None:
        raise AccountError("An account with this email address already exists.")
    check_password(password, email=email, name=display_name)
    user = User(
        email=email,
        display_name=display_name.strip() or email,
        role=role,
        password_hash=hash_password(password),
        regions=_regions_or_error(role, regions),
    )
    db.session.add(user)
    db.session.flush()
    record(actor, AuditAction.USER_CREATED, user, email=email, role=role, regions=[r.name for r in user.regions])
    return user


def update_user(actor, user: User, *, display_name: str, role: str, regions: Iterable[Region], is_active: bool) -> User:
    """Change name, role, regions and active flag (admins only); deactivation ends the user's sessions."""
    _require_admin(actor)
    if not Role.has_value(role):
        raise AccountError(f"Unknown role {role!r}.")
    if actor is not None and actor.id == user.id and (not is_active or role != user.role):
        raise AccountError("You cannot deactivate yourself or change your own role.")
    before = {"role": user.role, "regions": [r.name for r in user.regions], "is_active": user.is_active}
    user.display_name = display_name.strip() or user.display_name
    user.role = role
    user.regions = _regions_or_error(role, regions)
    was_active, user.is_active = user.is_active, is_active
    db.session.flush()
    after = {"role": user.role, "regions": [r.name for r in user.regions], "is_active": user.is_active}
    changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    record(actor, AuditAction.USER_CHANGED, user, changes=changes)
    if was_active and not is_active:
        end_sessions(user)
        record(actor, AuditAction.USER_DEACTIVATED, user)
    elif is_active and not was_active:
        record(actor, AuditAction.USER_REACTIVATED, user)
    return user


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt came to: the user, or nobody, or "wait this long first"."""

    user: User | None = None
    wait: timedelta | None = None


def authenticate(email: str, password: str) -> SignIn:
    """Check a password, throttled per address (``throttle``). Failures are audited with no
    reason given to the caller: unknown email, wrong password and deactivated account look
    alike, and an address with no account is slowed down exactly like one with an account."""
    typed = email.strip().lower()[:254]
    user = user_by_email(email) if email else None
    wait = throttle.wait_for(typed)
    if wait is not None:  # refused before the password is even looked at
        record(None, AuditAction.LOGIN_THROTTLED, user, seconds=int(wait.total_seconds()) + 1)
        return SignIn(wait=wait)
    if user is None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        if method not in _DUMMY_HASH:
            _DUMMY_HASH[method] = generate_password_hash("not-a-password", method=method)
        check_password_hash(_DUMMY_HASH[method], password)
        throttle.record_failure(typed)
        # Only what looks like an address is kept: people do type their password in the wrong box.
        record(None, AuditAction.LOGIN_FAILED, None, email=typed if _EMAIL.match(typed) else "(not an email address)")
        return SignIn()
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        failures = throttle.record_failure(typed)
        record(None, AuditAction.LOGIN_FAILED, user, reason="inactive" if user.is_active is False else "password")
        if failures == throttle.LOCK_AFTER:
            record(None, AuditAction.LOGIN_LOCKED, user, failures=failures)
            tell_owner_of_lock(user)
        return SignIn()
    throttle.clear(typed)
    user.last_login_at = utcnow()
    record(user, AuditAction.LOGIN, user)
    return SignIn(user=user)


def change_password(user: User, current: str, new: str) -> None:
    """The current password must match, the new one keep the rule; every other session ends."""
    if not check_password_hash(user.password_hash, current):
        raise AccountError("Your current password is not right.", "current_password")
    check_password(new, email=user.email, name=user.display_name, field="new_password")
    user.password_hash = hash_password(new)
    end_sessions(user, keep=user.login_session)
    db.session.flush()
    record(user, AuditAction.PASSWORD_CHANGED, user)


def sign_out_everywhere(user: User) -> int:
    """End every session of the user, this one included; returns how many ended."""
    ended = end_sessions(user)
    record(user, AuditAction.SESSIONS_ENDED, user, sessions=ended)
    return ended


def all_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.is_active.desc(), User.display_name)))


def reps_in_scope(user: RegionalUser) -> list[tuple[User, int]]:
    """Active reps and the regions they cover, limited to the user's regions."""
    stmt = (
        select(User, user_regions.c.region_id)
        .join(user_regions, user_regions.c.user_id == User.id)
        .where(User.role == Role.REP.value, User.is_active.is_(True))
        .order_by(User.display_name)
    )
    stmt = scope_to_regions(stmt, user_regions.c.region_id, user)
    return [(rep, region_id) for rep, region_id in db.session.execute(stmt)]
