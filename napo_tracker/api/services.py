"""Personal API tokens: officials create them (shown once) and revoke them."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from flask import abort
from sqlalchemy import select

from ..audit.models import AuditAction, record
from ..extensions import db
from ..kernel.clock import utcnow
from ..kernel.errors import DomainError
from .models import ApiToken, hash_token, new_token

if TYPE_CHECKING:
    from ..accounts.models import User

MAX_ACTIVE_TOKENS = 10
# last_used_at is written at most this often, so reading the API is not a write per request
LAST_USED_RESOLUTION = timedelta(minutes=5)


class TokenError(DomainError):
    """A token change that breaks a rule; the message is shown to the user."""


class TokenNotYours(TokenError):
    status_code = 403


class TokenNotAllowed(TokenError):
    """Reps read the API through their session only: they hold no tokens."""

    status_code = 403


def may_hold_tokens(user: Any) -> bool:
    """National officials and admins read the whole API; reps hold no tokens."""
    return bool(getattr(user, "sees_all_regions", False))


def tokens_for(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def get_token_for(user: User, token_id: int) -> ApiToken:
    """A token its owner (or an admin) may act on, or 404: another's token is 'not found'."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and not user.is_admin):
        abort(404)
    return token


def create_token(actor: User, name: str) -> tuple[ApiToken, str]:
    """Officials and admins only; returns the record and the token text, which is never stored."""
    if not may_hold_tokens(actor):
        raise TokenNotAllowed("Only national officials and admins can create API tokens.")
    active = [t for t in tokens_for(actor) if t.is_active]
    if len(active) >= MAX_ACTIVE_TOKENS:
        raise TokenError(f"You already have {MAX_ACTIVE_TOKENS} active tokens; revoke one first.")
    text = new_token()
    token = ApiToken(user_id=actor.id, name=name.strip(), token_hash=hash_token(text), hint=text[:9])
    db.session.add(token)
    db.session.flush()
    record(actor, AuditAction.API_TOKEN_CREATED, ("api_tokens", str(token.id)), name=token.name)
    return token, text


def revoke_token(actor: User, token: ApiToken) -> ApiToken:
    """The owner or an admin revokes a token; it stops working at once."""
    if token.user_id != actor.id and not actor.is_admin:
        raise TokenNotYours("You can revoke only your own tokens.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
        record(actor, AuditAction.API_TOKEN_REVOKED, ("api_tokens", str(token.id)), name=token.name)
    return token


def user_for_token(text: str) -> User | None:
    """The active owner of an active token, or None."""
    if not text or len(text) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(text)))
    if token is None or token.revoked_at is not None or not token.user.is_active or not may_hold_tokens(token.user):
        return None
    now = utcnow()
    last = token.last_used_at
    if last is not None and last.tzinfo is None:  # SQLite gives naive datetimes back
        last = last.replace(tzinfo=UTC)
    if last is None or now - last > LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.flush()
    return token.user
