"""Accounts: creating, changing and authenticating users."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit.models import AuditAction, record
from ..extensions import db
from ..forms import has_forbidden_characters
from ..kernel import clock
from ..kernel.clock import utcnow
from ..kernel.errors import DomainError
from ..kernel.vocabulary import Role
from ..regions.models import Region
from ..regions.scoping import RegionalUser, scope_to_regions
from . import throttle
from .models import User, UserSession, user_by_email, user_regions
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


def acting_user(user_id: int | None) -> User:
    """The person a background job acts for, loaded when it runs: an account deleted or
    deactivated since it asked does nothing more."""
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or not user.is_active:
        raise AccountError("The account that asked for this has been deactivated since, so it was not done.")
    return user


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


# ---------------------------------------------------------------- retention


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)  # SQLite drops the zone


def last_used_on(user: User) -> date:
    """The last day the account was used: signed in, kept a session going, or was created."""
    moments = [user.created_at, user.last_login_at]
    moments.append(db.session.scalar(select(func.max(UserSession.last_seen_at)).where(UserSession.user_id == user.id)))
    return max(clock.today(_aware(moment)) for moment in moments if moment is not None)


def idle_accounts(cutoff: date) -> list[User]:
    """Active accounts last used on ``cutoff`` or before. The last active admin is never among
    them: deactivating them would leave nobody to manage accounts."""
    active = list(db.session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.id)))
    idle = [user for user in active if last_used_on(user) <= cutoff]
    admins = [user for user in active if user.is_admin]
    idle_ids = {user.id for user in idle}  # by id: accounts compare by their login session
    if admins and all(admin.id in idle_ids for admin in admins):
        spared = max(admins, key=last_used_on).id
        idle = [user for user in idle if user.id != spared]
    return idle


def deactivate_account(actor: User | None, user: User, *, reason: str, **details: str) -> None:
    """Deactivate an account for a reason other than an admin's edit (unused for the retention
    period; its holder erased as a member): its sessions end; an admin can reactivate it."""
    user.is_active = False
    end_sessions(user)
    db.session.flush()
    record(actor, AuditAction.USER_DEACTIVATED, user, reason=reason, **details)


def deactivate_idle(user: User) -> None:
    """Deactivate an account nobody has used for the retention schedule's ``idle_accounts`` period."""
    deactivate_account(None, user, reason="idle", unused_since=last_used_on(user).isoformat())


def account_for_email(email: str | None) -> User | None:
    """The account whose e-mail address is this one, whatever its case (how a member who also
    holds an account is recognised)."""
    return user_by_email(email) if email else None
