"""Who may come in: the deny-by-default gate, role checks, safe redirects and headers.

Which regions a person may see is the business of ``regions.scoping``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, jsonify, redirect, request, url_for
from flask_login import current_user

from .kernel.vocabulary import Role

# Endpoints an anonymous visitor may reach. Everything else needs a login.
PUBLIC_ENDPOINTS: frozenset[str] = frozenset(
    {
        "static",
        "bootstrap.static",
        "accounts.login",
        "accounts.second_factor",  # the code after the password, before a session exists
        "accounts.forgot",
        "accounts.reset",
        "main.healthz",
        # the public testimony pages: members have no account
        "testimonies.submit",
        "testimonies.receipt",
        "testimonies.status",
        # a rep's private calendar feed: the secret in its URL is the credential
        "notices.calendar_feed",
        # the members' privacy notice, linked from the testimony form and every page
        "privacy.notice",
        # help: the index and search list only what the visitor may read; the members' page
        "help.index",
        "help.member_page",
        "help.search_help",
    }
)

# Blueprints that answer machines: an anonymous request gets 401 JSON, not a login page.
API_BLUEPRINTS: frozenset[str] = frozenset({"api"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def init_app(app: Flask) -> None:
    app.before_request(require_login_unless_public)
    app.after_request(set_security_headers)


def require_login_unless_public():
    """Deny by default: anonymous requests to non-public endpoints go to the login page."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None  # unknown URLs fall through to the 404 page
    if current_user.is_authenticated:
        return None
    if request.blueprint in API_BLUEPRINTS:
        response = jsonify(error="authentication required")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="napo-tracker"'
        return response
    next_path = request.full_path if request.method == "GET" else None
    if next_path and next_path.endswith("?"):
        next_path = next_path[:-1]
    return redirect(url_for("accounts.login", next=next_path))


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("CONFIG_NAME") == "production":  # served over HTTPS only
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint not in ("static", "bootstrap.static"):
        # Pages can show personal data: never keep them in a shared or back-button cache.
        headers["Cache-Control"] = "no-store"
        headers.setdefault("Pragma", "no-cache")
    return response


def is_safe_redirect(target: str | None) -> bool:
    """Only paths on this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default_endpoint: str = "main.index") -> str:
    return target if target is not None and is_safe_redirect(target) else url_for(default_endpoint)


F = TypeVar("F", bound=Callable[..., Any])


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Refuse (403) a logged-in user whose role is not among ``roles``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            if not current_user.is_authenticated:
                abort(401)
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
