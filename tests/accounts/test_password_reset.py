"""Password reset by e-mail: the same answer whatever the address; a single-use, expiring
link whose token is kept only as a hash; every session ends; the lock lifts."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from napo_tracker.accounts import throttle
from napo_tracker.accounts.models import LoginThrottle, PasswordReset
from napo_tracker.accounts.services import authenticate
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import utcnow

from ..factories import PASSWORD
from ..helpers import count, csrf_from, log_in, submit

NEW = "amber ferry window 63"
LINK = re.compile(r"https://tracker\.example\.org(/login/reset/[A-Za-z0-9_-]+)")


def _ask(client, email: str):
    return submit(client, "/login/forgot", {"email": email})


def _link(mail_server, email: str) -> str:
    bodies = mail_server.bodies_to(email)
    assert bodies, f"no message to {email}"
    found = LINK.search(bodies[-1])
    assert found is not None
    return found.group(1)


def test_the_same_answer_whether_or_not_the_address_has_an_account(client, world, mail_server):
    known, unknown = _ask(client, "rep.london@example.org"), _ask(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == "/login"
    assert "If an account uses that address" in client.get("/login").text
    assert len(mail_server.messages) == 1 and mail_server.recipients == [["rep.london@example.org"]]
    token = _link(mail_server, "rep.london@example.org").rsplit("/", 1)[1]
    assert token not in db.session.scalars(select(PasswordReset.token_hash)).one()


def test_a_reset_sets_the_password_ends_every_session_and_works_once(app, client, world, mail_server):
    signed_in = app.test_client()
    log_in(signed_in, "rep.london@example.org", PASSWORD)
    _ask(client, "rep.london@example.org")
    path = _link(mail_server, "rep.london@example.org")
    page = client.get(path)
    assert page.status_code == 200
    done = client.post(path, data={"csrf_token": csrf_from(page.data), "new_password": NEW, "confirm": NEW})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert signed_in.get("/cases/").headers["Location"].startswith("/login")
    assert log_in(app.test_client(), "rep.london@example.org", PASSWORD).status_code == 400
    assert log_in(app.test_client(), "rep.london@example.org", NEW).status_code == 302
    again = client.get(path)
    assert again.status_code == 400 and "expired or has been used" in again.text


def test_a_reset_keeps_the_password_rule(client, world, mail_server):
    _ask(client, "rep.london@example.org")
    path = _link(mail_server, "rep.london@example.org")
    page = client.get(path)
    weak = client.post(
        path, data={"csrf_token": csrf_from(page.data), "new_password": "Password123!", "confirm": "Password123!"}
    )
    assert weak.status_code == 400 and "Choose a harder password" in weak.text
    assert client.get(path).status_code == 200  # still usable: nothing was spent


def test_an_expired_or_unknown_link_is_refused(client, world, mail_server):
    _ask(client, "rep.london@example.org")
    path = _link(mail_server, "rep.london@example.org")
    db.session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(path).status_code == 400
    assert client.get("/login/reset/not-a-token").status_code == 400
    assert client.get("/login/reset/" + "x" * 500).status_code == 400


def test_asking_again_replaces_the_earlier_link(client, world, mail_server):
    _ask(client, "rep.london@example.org")
    first = _link(mail_server, "rep.london@example.org")
    _ask(client, "rep.london@example.org")
    second = _link(mail_server, "rep.london@example.org")
    assert first != second
    assert client.get(first).status_code == 400 and client.get(second).status_code == 200


def test_a_reset_lifts_a_sign_in_lock(client, world, mail_server):
    for n in range(throttle.FREE_FAILURES + 2):
        db.session.execute(update(LoginThrottle).values(blocked_until=None))
        authenticate("rep.london@example.org", f"wrong {n}")
    db.session.commit()
    assert authenticate("rep.london@example.org", PASSWORD).wait is not None
    _ask(client, "rep.london@example.org")
    path = _link(mail_server, "rep.london@example.org")
    page = client.get(path)
    client.post(path, data={"csrf_token": csrf_from(page.data), "new_password": NEW, "confirm": NEW})
    assert count(LoginThrottle) == 0
    assert authenticate("rep.london@example.org", NEW).user is not None


def test_a_mail_server_that_is_down_does_not_show(app, client, world):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9, MAIL_TIMEOUT=2)  # nothing listens on the discard port
    response = _ask(client, "rep.london@example.org")
    assert response.status_code == 302
