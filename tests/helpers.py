"""Small helpers for driving forms through the test client, CSRF token included."""

from __future__ import annotations

import re
from typing import Any, TypeVar
from urllib.parse import urlencode

from sqlalchemy import Select, func, select

from napo_tracker.extensions import db

T = TypeVar("T")

_CSRF = re.compile(
    r'name="(?:[\w-]*-)?csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="(?:[\w-]*-)?csrf_token"'
)


def csrf_from(html: str | bytes) -> str:
    text = html.decode() if isinstance(html, bytes) else html
    match = _CSRF.search(text)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


def submission_token_from(html: str | bytes, name: str = "submission_token") -> str | None:
    """The one-time token of the page's (first) form that creates a record, if it has one."""
    text = html.decode() if isinstance(html, bytes) else html
    name = re.escape(name)
    match = re.search(rf'name="{name}"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="{name}"', text)
    return (match.group(1) or match.group(2)) if match else None


def form_tokens(html: str | bytes, prefix: str = "") -> dict[str, str]:
    """The hidden tokens a form of the page sends back: its CSRF token and, on a form that
    creates a record, its one-time submission token (names with the form's ``prefix``)."""
    tokens = {f"{prefix}csrf_token": csrf_from(html)}
    once = submission_token_from(html, f"{prefix}submission_token")
    if once is not None:
        tokens[f"{prefix}submission_token"] = once
    return tokens


def submit(client, url: str, data: dict, *, form_url: str | None = None, field: str = "csrf_token", **kwargs):
    """GET the form page (``form_url`` or ``url``), then POST ``data`` with its CSRF token
    (and its one-time submission token, where the form has one)."""
    page = client.get(form_url or url)
    return client.post(url, data={**form_tokens(page.data, field[: -len("csrf_token")]), **data}, **kwargs)


def log_in(client, email: str, password: str, *, next_path: str | None = None, remember: bool = False):
    """Log in through the real login form (CSRF, rate limit and audit included)."""
    url = "/login" if next_path is None else "/login?" + urlencode({"next": next_path})
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return submit(client, url, data, form_url="/login")


def log_out(client):
    """Log out with the CSRF-protected POST the navigation bar sends."""
    page = client.get("/account/password")
    return client.post("/logout", data={"csrf_token": csrf_from(page.data)})


def count(table: Any, *criteria: Any) -> int:
    """How many rows of a model (or table) match ``criteria``."""
    return db.session.scalar(select(func.count()).select_from(table).where(*criteria)) or 0


def one(stmt: Select[T]) -> T:
    """The one record a query finds; a test fails loudly on none or several."""
    return db.session.scalars(stmt).one()
