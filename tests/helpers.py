"""Small helpers for driving forms through the test client, CSRF token included."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Select, func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from napo_tracker.accounts.models import User, user_by_email
from napo_tracker.accounts.sessions import start_session
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


def post_file(client, url: str, data: bytes, filename: str, *, csrf_token: str, field: str = "file", **fields: str):
    """POST one file as a browser would, with the form's other ``fields`` (its one-time
    submission token, say). The multipart body is built here as bytes: the test client would
    spool a big one to a temporary file that nothing closes."""
    stream, _length, boundary = stream_encode_multipart(
        {"csrf_token": csrf_token, **fields, field: FileStorage(io.BytesIO(data), filename=filename)},
        use_tempfile=False,
    )
    return client.post(url, data=stream.read(), content_type=f"multipart/form-data; boundary={boundary}")


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


# ---------------------------------------------------------------- requests at the same moment


def same_browser(app, user: User, count: int) -> tuple[list[FlaskClient], Callable[[str], bytes]]:
    """``count`` clients, one per thread, sharing one signed-in browser's cookies; and a way to
    open a form page in that browser (its CSRF secret goes to every client's cookie)."""
    token = start_session(user)
    db.session.commit()
    clients = [FlaskClient(app, use_cookies=True) for _ in range(count)]
    with clients[0].session_transaction() as session:
        session["_user_id"] = f"{user.id}:{token}"
        session["_fresh"] = True

    def open_page(url: str) -> bytes:
        page = clients[0].get(url).data
        cookie = clients[0].get_cookie(app.config["SESSION_COOKIE_NAME"])
        assert cookie is not None
        for client in clients[1:]:
            client.set_cookie(cookie.key, cookie.value)
        return page

    return clients, open_page


def at_once(sends: list[Callable[[FlaskClient], Any]], clients: list[FlaskClient]) -> list[Any]:
    """Run each send in its own thread, all released at the same instant."""
    barrier = threading.Barrier(len(sends))
    results: list[Any] = [None] * len(sends)

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[i] = sends[i](clients[i])
        except Exception as error:  # a failure is a result to assert on, not a lost thread
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(sends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def slowed(monkeypatch, module: Any, name: str, seconds: float = 0.4) -> None:
    """The service takes a moment: the other copy arrives while the first is still at work."""
    real = getattr(module, name)

    def slowly(*args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, slowly)


def postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: the race is run on PostgreSQL")
