"""Password reset by e-mail, and the account notices sent to a person about their own account.

Asking for a reset gives the same answer whether or not the address has an account. The
link carries a single-use token (only its hash is kept) that expires after
``PASSWORD_RESET_TTL`` seconds; using it sets a password that keeps the rule, ends every
session of the account and lifts a sign-in lock. Every message is content-free: no member,
no record, only what happened to the person's own account and a link.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import select, update

from ..audit.models import AuditAction, record
from ..extensions import db
from ..kernel.clock import utcnow
from ..kernel.errors import DomainError
from ..mail import MailError, build_message, outbox, public_url
from . import throttle
from .models import PasswordReset, User, user_by_email
from .passwords import check_password, hash_password
from .sessions import end_sessions

logger = logging.getLogger(__name__)


class ResetRefused(DomainError):
    """A reset link that is unknown, used or out of date."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _send(to: str, subject: str, body: str) -> None:
    """Send now; a mail server that is down is logged, never shown (nor does it say who asked)."""
    try:
        with outbox() as box:
            box.send(build_message(to, subject, body))
    except MailError as error:
        logger.warning("account e-mail not sent: %s", type(error).__name__)


def request_reset(email: str) -> None:
    """Send a reset link if an active account uses ``email``; otherwise do nothing, silently."""
    user = user_by_email(email) if email else None
    if user is None or not user.is_active:
        return
    token = secrets.token_urlsafe(32)
    now = utcnow()
    # One live link at a time: asking again replaces the earlier one.
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    ttl = timedelta(seconds=int(current_app.config["PASSWORD_RESET_TTL"]))
    db.session.add(PasswordReset(user_id=user.id, token_hash=_hash(token), created_at=now, expires_at=now + ttl))
    db.session.flush()
    record(None, AuditAction.PASSWORD_RESET_REQUESTED, user)
    link = public_url("accounts.reset", token=token)
    minutes = int(ttl.total_seconds() // 60)
    _send(
        user.email,
        gettext("%(union)s tracker: reset your password", union=current_app.config["UNION_NAME"]),
        ngettext(
            "Someone asked to reset the password of your account. If it was you, open this link within "
            "%(num)d minute and choose a new password:\n\n%(link)s\n\n"
            "If it was not you, ignore this message: your password stays as it is.\n",
            "Someone asked to reset the password of your account. If it was you, open this link within "
            "%(num)d minutes and choose a new password:\n\n%(link)s\n\n"
            "If it was not you, ignore this message: your password stays as it is.\n",
            minutes,
            link=link,
        ),
    )


def reset_for_token(token: str) -> PasswordReset:
    """The live reset a link's token names, or a refusal that says what to do."""
    if not token or len(token) > 100:
        raise ResetRefused("This reset link is not valid. Ask for a new one.")
    reset = db.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _hash(token)))
    if reset is None or reset.used_at is not None or utcnow() >= _aware(reset.expires_at):
        raise ResetRefused("This reset link has expired or has been used. Ask for a new one.")
    return reset


def reset_password(token: str, new_password: str) -> User:
    """Set a new password through a live link; every session of the account ends."""
    reset = reset_for_token(token)
    user = reset.user
    check_password(new_password, email=user.email, name=user.display_name, field="new_password")
    user.password_hash = hash_password(new_password)
    reset.used_at = utcnow()
    end_sessions(user)
    throttle.clear(user.email)
    db.session.flush()
    record(user, AuditAction.PASSWORD_RESET, user)
    return user


def tell_owner_of_lock(user: User) -> None:
    """The account's sign-in was locked by failed passwords: its owner is told, content-free."""
    link = public_url("accounts.forgot")
    _send(
        user.email,
        gettext("%(union)s tracker: sign-in paused after failed passwords", union=current_app.config["UNION_NAME"]),
        gettext(
            "Several wrong passwords were tried for your account, so signing in is paused for a few minutes.\n\n"
            "If that was you, wait and try again. If it was not, nothing has been opened; you can reset your "
            "password here, which also lifts the pause:\n\n%(link)s\n",
            link=link,
        ),
    )
