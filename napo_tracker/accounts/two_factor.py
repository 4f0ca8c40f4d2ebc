"""Two-factor sign-in: a time-based code (TOTP, RFC 6238) from an authenticator app, or one
of ten one-time recovery codes.

Required for the roles named by ``REQUIRE_TWO_FACTOR`` (``NAPO_REQUIRE_TWO_FACTOR``: a comma-
separated list, default ``official,admin``; empty for none), optional for the others. The
secret is kept encrypted with the data key; a code is accepted once (its time step is
remembered) and within one step either side of now, for clocks a little out. Wrong codes
count against the account in the sign-in throttle, like wrong passwords.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, select

from ..audit.models import AuditAction, record
from ..crypto import decrypt_text, encrypt_text
from ..extensions import db
from ..kernel.clock import utcnow
from ..kernel.errors import ConfigurationError, DomainError
from ..kernel.vocabulary import Role
from . import throttle
from .models import RecoveryCode, User

RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed by hand


class TwoFactorError(DomainError):
    """A change to two-factor sign-in refused."""


class NotAnAdmin(TwoFactorError):
    """Someone other than an admin reached for another person's two-factor sign-in."""

    status_code = 403


class WrongCode(TwoFactorError):
    """A code that does not open the account. Nothing is written with it (the transaction rolls
    back): the page that caught it counts the failure with ``count_wrong_code`` and keeps it."""


def required_roles(setting: str | None) -> frozenset[Role]:
    """The roles named by ``REQUIRE_TWO_FACTOR``; an unknown role refuses to start."""
    names = [name.strip() for name in (setting or "").split(",") if name.strip()]
    unknown = [name for name in names if not Role.has_value(name)]
    if unknown:
        raise ConfigurationError(
            f"NAPO_REQUIRE_TWO_FACTOR names {', '.join(unknown)}: give roles among rep, official, admin "
            "(comma-separated), or leave it empty for none."
        )
    return frozenset(Role(name) for name in names)


def is_required(user: User) -> bool:
    return user.role in required_roles(current_app.config["REQUIRE_TWO_FACTOR"])


def needs_setting_up(user: User) -> bool:
    """Signed in with a password, but their role requires a second factor they have not set up."""
    return is_required(user) and not user.has_two_factor


# ---------------------------------------------------------------- setting it up


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning(user: User, secret: str) -> tuple[str, str]:
    """The ``otpauth://`` address for an authenticator app, and a QR code of it (an SVG data URI,
    made here: nothing is fetched)."""
    issuer = f"{current_app.config['UNION_NAME']} tracker"
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)
    return uri, segno.make(uri, error="m").svg_data_uri(scale=4, dark="#000", light="#fff")


def _code_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step a six-digit code belongs to (now, or one either side), if not used before."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(utcnow())
    for step in (now_step, now_step - 1, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and (last_step is None or step > last_step):
            return step
    return None


def _hash_recovery(code: str) -> str:
    plain = "".join(code.lower().split()).replace("-", "")
    return hashlib.sha256(plain.encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_recovery(raw)))
    return codes


def turn_on(user: User, secret: str, code: str) -> list[str]:
    """Keep ``secret`` once a code made from it proves the app holds it; returns the recovery
    codes, to be shown once."""
    step = _code_step(secret, code, None)
    if step is None:
        raise TwoFactorError("That code does not match. Check the time on your phone and try a new code.", "code")
    user.totp_secret = encrypt_text(secret)
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    db.session.flush()
    record(user, AuditAction.TWO_FACTOR_ENABLED, user)
    return codes


def new_recovery_codes(user: User, code: str) -> list[str]:
    """Replace the recovery codes (the old ones stop working), after a current code."""
    verify(user, code)
    codes = _new_recovery_codes(user)
    db.session.flush()
    record(user, AuditAction.TWO_FACTOR_RECOVERY_CODES_REPLACED, user)
    return codes


def turn_off(actor: User, user: User, *, code: str | None = None) -> None:
    """Turn two-factor sign-in off: by its owner with a current code, where their role allows
    it; or by an admin for someone who lost their phone (they set it up again at next sign-in)."""
    if actor.id == user.id:
        if is_required(user):
            raise TwoFactorError("Your role needs two-factor sign-in: it cannot be turned off.")
        verify(user, code or "")
    elif actor.role != Role.ADMIN:
        raise NotAnAdmin("Only an admin can reset someone else's two-factor sign-in.")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()
    record(actor, AuditAction.TWO_FACTOR_DISABLED, user, by_admin=actor.id != user.id)


# ---------------------------------------------------------------- signing in


def _throttle_key(user: User) -> str:
    return f"second-factor:{user.id}"


def verify(user: User, code: str) -> str:
    """Accept a current authenticator code or an unused recovery code; returns which ("app" or
    "recovery code"). A wrong one raises ``WrongCode``; too many lately, ``TwoFactorError``."""
    if not user.has_two_factor or user.totp_secret is None:
        raise TwoFactorError("Two-factor sign-in is not set up for this account.")
    wait = throttle.wait_for(_throttle_key(user))
    if wait is not None:
        raise TwoFactorError("Too many wrong codes. Wait a few minutes and try again.", "code")
    step = _code_step(decrypt_text(user.totp_secret), code, user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        throttle.clear(_throttle_key(user))
        return "app"
    hashed = _hash_recovery(code)
    unused = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    for recovery in unused:
        if hmac.compare_digest(recovery.code_hash, hashed):
            recovery.used_at = utcnow()
            throttle.clear(_throttle_key(user))
            record(user, AuditAction.TWO_FACTOR_RECOVERY_CODE_USED, user)
            return "recovery code"
    raise WrongCode("That code is not right, or it has been used already.", "code")


def count_wrong_code(user: User) -> None:
    """A wrong code slows the next ones down (the sign-in throttle) and is audited."""
    throttle.record_failure(_throttle_key(user))
    record(None, AuditAction.LOGIN_FAILED, user, reason="second factor")


def recovery_codes_left(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        ).all()
    )
