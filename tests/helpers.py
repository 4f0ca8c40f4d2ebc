"""Small helpers for driving forms through the test client, CSRF token included."""

from __future__ import annotations

import re
from typing import Any, TypeVar
from urllib.parse import urlencode

from sqlalchemy import Select, func, select

from napo_tracker.accounts.models import user_by_email
from napo_tracker.extensions import db

from .factories import totp_code

T = TypeVar("T")

_CSRF = re.compile(
    r'name="(?:[\w-]*-)?csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="(?:[\w-]*-)?csrf_token"'
)


def csrf_from(html: str | bytes) -> str:
    text = html.decode() if isinstance(html, bytes) else html
    match = _CSRF.search(text)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


def submit(client, url: str, data: dict, *, form_url: str | None = None, field: str = "csrf_token", **kwargs):
    """GET the form page (``form_url`` or ``url``), then POST ``data`` with its CSRF token."""
    page = client.get(form_url or url)
    token = csrf_from(page.data)
    return client.post(url, data={field: token, **data}, **kwargs)


def log_in(client, email: str, password: str, *, next_path: str | None = None, remember: bool = False):
    """Log in through the real login form (CSRF, rate limit and audit included), typing the
    authenticator code too where the account asks for one."""
    url = "/login" if next_path is None else "/login?" + urlencode({"next": next_path})
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    response = submit(client, url, data, form_url="/login")
    if response.status_code == 302 and response.headers["Location"] == "/login/two-factor":
        user = user_by_email(email)
        assert user is not None
        response = submit(client, "/login/two-factor", {"code": totp_code(user)})
    return response


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
