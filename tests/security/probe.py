"""How the security suite sends a request and reads the answer."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import Select, Table, select
from werkzeug.test import TestResponse

from napo_tracker import create_app
from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.extensions import db

from .routes import AWAY, FORBIDDEN, LOGIN, NOT_FOUND, OK, UNAUTHORIZED, Outcome, Role

HOSTILE_NEXT = "https://evil.example/next"
REDIRECTS = (301, 302, 303, 307, 308)


@cache
def url_map_app() -> Flask:
    """An app built only to read its URL map at collection time (it never opens its database)."""
    return create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")


def route_ids() -> list[tuple[str, str]]:
    """Every (endpoint, method) of the app, for parametrising: a new route is a new test."""
    from .routes import every_route

    return [(rule.endpoint, method) for rule, method in every_route(url_map_app())]


def rule_for(app: Flask, endpoint: str):
    rules = app.url_map._rules_by_endpoint[endpoint]
    assert len(rules) == 1, f"{endpoint} has {len(rules)} rules: give each its own entry"
    return rules[0]


def with_next(url: str, target: str = HOSTILE_NEXT) -> str:
    """The URL with a hostile ``next=``: no answer may send the browser there."""
    return f"{url}{'&' if '?' in url else '?'}next={target}"


def classify(response: TestResponse, role: Role) -> Outcome | str:
    status = response.status_code
    if status == 200:
        return OK
    if status in REDIRECTS:
        location = urlsplit(response.headers.get("Location", ""))
        if role == "anonymous" and location.path == "/login":
            return LOGIN
        return AWAY
    known = {401: UNAUTHORIZED, 403: FORBIDDEN, 404: NOT_FOUND}
    if status in known:
        return known[status]
    return f"status {status}"


def matches(expected: Outcome, got: Outcome | str, method: str, status: int) -> bool:
    """A POST the view handled may answer with its page, a redirect, or its form's errors."""
    if got == expected:
        return True
    if method == "POST" and expected is OK:
        return got is AWAY or status in (400, 409)
    return False


def send(client, method: str, url: str, token: str | None):
    data = {"csrf_token": token} if token is not None else {}
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data=data)


def assert_stays_on_site(response: TestResponse, context: str) -> None:
    location = response.headers.get("Location")
    if location is None:
        return
    parts = urlsplit(location)
    assert parts.netloc in ("", "localhost") and not location.startswith("//"), f"{context}: redirected to {location}"
    assert "evil.example" not in parts.path, f"{context}: redirected to {location}"


# Every answer carries these; a page that shows personal data is never cached.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_security_headers(response: TestResponse, context: str, *, static: bool = False) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, f"{context}: {name} is {response.headers.get(name)!r}"
    csp = response.headers.get("Content-Security-Policy", "")
    assert "default-src" in csp, f"{context}: no Content-Security-Policy"
    assert "frame-ancestors 'none'" in csp or "sandbox" in csp, f"{context}: the page may be framed ({csp})"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, f"{context}: {csp}"
    if not static:
        assert response.headers.get("Cache-Control") == "no-store", f"{context}: may be cached"


def snapshot(*, leave_out: frozenset[str] = frozenset({"user_sessions"})) -> dict[str, list[str]]:
    """Every row of every table (but ``leave_out``), to show that a refused request changed nothing.

    A rep's attempt on another region's record is written down on purpose (``access:out-of-region``
    in the audit log, for the union to see); that entry is the one change a refusal may make."""
    db.session.expire_all()
    return {
        table.name: sorted(repr(tuple(row)) for row in db.session.execute(_rows_of(table)).all())
        for table in db.metadata.sorted_tables
        if table.name not in leave_out
    }


def _rows_of(table: Table) -> Select:
    if table.name == AuditEvent.__tablename__:
        return select(table).where(table.c.action != AuditAction.ACCESS_REFUSED.value)
    return select(table)


def changed_tables(before: dict[str, list], after: dict[str, list]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
