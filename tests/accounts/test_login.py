"""Logging in and out: sessions, redirects, the generic message, the rate limit and the audit trail."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from napo_tracker import create_app
from napo_tracker.accounts.services import update_user
from napo_tracker.accounts.sessions import resume_session
from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.extensions import db

from ..factories import PASSWORD
from ..helpers import csrf_from, log_in, log_out


def _events(action: AuditAction) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _without_tokens(html: bytes) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', html.decode())


def test_login_and_logout(client, world):
    response = log_in(client, "rep.london@example.org", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/regions/")
    assert page.status_code == 200
    assert b"London PDU" in page.data

    response = log_out(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get("/regions/").headers["Location"].startswith("/login")
    assert [e.actor_label for e in _events(AuditAction.LOGIN)] == ["rep.london@example.org"]
    assert [e.actor_label for e in _events(AuditAction.LOGOUT)] == ["rep.london@example.org"]
    db.session.expire_all()
    assert world.london_rep.last_login_at is not None


def test_email_is_matched_whatever_its_case(client, world):
    assert log_in(client, "  Rep.London@EXAMPLE.org ", PASSWORD).status_code == 302


def test_logout_needs_a_post_with_a_csrf_token(client, world, login_as):
    login_as(world.london_rep)
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.status_code == 400
    assert b"not sent from this site" in response.data
    assert client.get("/regions/").status_code == 200  # still logged in


def test_session_is_rotated_at_login(client, world):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone else before login"
        before = dict(session)
    log_in(client, "rep.london@example.org", PASSWORD)
    with client.session_transaction() as session:
        after = dict(session)
    assert "planted" not in after
    user_id, _, token = after["_user_id"].partition(":")
    assert user_id == str(world.london_rep.id) and resume_session(after["_user_id"]) is not None
    assert token not in str(before)
    assert after.get("csrf_token") != before.get("csrf_token")


def test_remember_me_is_off_by_default(client, world):
    page = client.get("/login")
    assert re.search(rb'<input[^>]*name="remember"[^>]*>', page.data)
    assert not re.search(rb'<input[^>]*name="remember"[^>]*checked', page.data)
    log_in(client, "rep.london@example.org", PASSWORD)
    assert client.get_cookie("remember_token") is None


def test_remember_me_when_asked(client, world):
    log_in(client, "rep.london@example.org", PASSWORD, remember=True)
    cookie = client.get_cookie("remember_token")
    assert cookie is not None and cookie.http_only
    assert cookie.expires - datetime.now(UTC) < timedelta(days=15)


def test_one_generic_message_for_wrong_email_or_password(client, world):
    wrong_password = log_in(client, "rep.london@example.org", "not the password at all")
    unknown_email = log_in(client, "nobody@example.org", "not the password at all")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 400
        assert b"That email address and password do not match an active account." in response.data
    assert _without_tokens(wrong_password.data).replace("rep.london", "X") == _without_tokens(
        unknown_email.data
    ).replace("nobody", "X")
    assert client.get("/").status_code == 302
    failed = _events(AuditAction.LOGIN_FAILED)
    assert [e.target_ref for e in failed] == [str(world.london_rep.id), None]
    assert failed[1].details == {"email": "nobody@example.org"}
    assert "password" not in str(failed[1].details.values())


NEXT_PATHS = [
    ("/regions/", "/regions/"),
    ("/audit/?action=auth", "/audit/?action=auth"),
    ("//evil.example/", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("http:/evil.example", "/"),
]


def test_next_goes_only_to_paths_on_this_site(client, world):
    for next_path, expected in NEXT_PATHS:
        response = log_in(client, "official@example.org", PASSWORD, next_path=next_path)
        assert response.status_code == 302, next_path
        assert response.headers["Location"] == expected, next_path
        log_out(client)


def test_anonymous_visitor_comes_back_to_the_page_asked_for(client, world):
    response = client.get("/regions/")
    assert response.headers["Location"] == "/login?next=/regions/"
    assert log_in(client, "official@example.org", PASSWORD, next_path="/regions/").headers["Location"] == "/regions/"


def test_a_logged_in_visitor_to_the_login_page_goes_home(client, world, login_as):
    login_as(world.official)
    assert client.get("/login?next=//evil.example").headers["Location"] == "/"


def test_deactivated_user_cannot_log_in(client, world):
    update_user(world.admin, world.london_rep, display_name="Rep", role="rep", regions=[world.london], is_active=False)
    db.session.commit()
    response = log_in(client, "rep.london@example.org", PASSWORD)
    assert response.status_code == 400
    assert b"do not match an active account" in response.data
    assert client.get("/").status_code == 302
    assert _events(AuditAction.LOGIN_FAILED)[-1].details == {"reason": "inactive"}


def test_deactivation_ends_an_existing_session_at_the_next_request(client, world):
    log_in(client, "rep.london@example.org", PASSWORD)
    assert client.get("/regions/").status_code == 200
    update_user(world.admin, world.london_rep, display_name="Rep", role="rep", regions=[world.london], is_active=False)
    db.session.commit()
    response = client.get("/regions/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_hundred_rapid_wrong_passwords_are_throttled(client, world):
    token = csrf_from(client.get("/login").data)
    statuses = []
    for _ in range(100):
        response = client.post(
            "/login", data={"csrf_token": token, "email": "rep.london@example.org", "password": "guess-guess-guess"}
        )
        statuses.append(response.status_code)
    assert set(statuses) <= {400, 429}
    assert statuses.count(400) <= 10
    assert statuses[-1] == 429
    assert response.headers["Retry-After"].isdigit()
    assert b"Too many attempts" in response.data
    assert b"per 1 minute" not in response.data and b"Werkzeug" not in response.data
    # the right password is refused too while the limit lasts: guessing gains nothing
    response = client.post(
        "/login", data={"csrf_token": token, "email": "rep.london@example.org", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert len(_events(AuditAction.LOGIN_FAILED)) == statuses.count(400)


def test_a_password_typed_in_the_email_box_is_not_audited(client, world):
    log_in(client, "correct horse battery staple", "")
    log_in(client, "correct-horse-battery", "whatever")
    details = [e.details for e in _events(AuditAction.LOGIN_FAILED)]
    assert details == [{"email": "(not an email address)"}]  # the first never reached authentication
    assert "horse" not in str(details)


def test_login_form_bad_input(client, world):
    for data, message in [
        ({"email": "", "password": ""}, b"This field is required."),
        ({"email": "a" * 10_000, "password": "x"}, b"Field cannot be longer than 254 characters."),
        ({"email": "rep@example.org", "password": "p" * 10_000}, b"Field cannot be longer than 1024 characters."),
        ({"email": "<script>alert(1)</script>", "password": "x"}, b"do not match an active account"),
    ]:
        token = csrf_from(client.get("/login").data)
        response = client.post("/login", data={"csrf_token": token, **data})
        assert response.status_code == 400, data
        assert message in response.data, data
        assert b"<script>alert(1)</script>" not in response.data
    assert client.get("/").status_code == 302


def test_login_with_bytes_that_are_not_utf8(client, world):
    token = csrf_from(client.get("/login").data)
    # Raw bytes: the body cannot be decoded, so the form (token included) is refused whole.
    raw = b"csrf_token=" + token.encode() + b"&email=rep\xff@example.org&password=\xff\xfe\xfd"
    response = client.post("/login", data=raw, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert b"Please reload the page" in response.data
    # Percent-encoded bytes are kept as the literal text they were sent as: no such account.
    encoded = b"csrf_token=" + token.encode() + b"&email=rep.london%FF@example.org&password=%FF%FE"
    response = client.post("/login", data=encoded, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert b"do not match an active account" in response.data
    assert client.get("/").status_code == 302


def test_login_without_csrf_token_is_refused(client, world):
    response = client.post("/login", data={"email": "rep.london@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert b"Please reload the page" in response.data
    assert client.get("/").status_code == 302


def test_behind_a_proxy_each_visitor_has_their_own_limit(database_url, tmp_path):
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        INSTANCE_FILES_DIR=str(tmp_path / "f"),
        PROXY_COUNT=1,
        LOGIN_RATE_LIMIT="3 per minute",
    )
    client = app.test_client()
    with app.app_context():
        token = csrf_from(client.get("/login").data)

        def attempt(address: str, email: str) -> int:
            return client.post(
                "/login",
                headers={"X-Forwarded-For": address},
                data={"csrf_token": token, "email": email, "password": "wrong"},
            ).status_code

        # Each try names another address, so only the per-client limit is at work here.
        assert [attempt("203.0.113.7", f"x{n}@example.org") for n in range(4)] == [400, 400, 400, 429]
        assert attempt("198.51.100.20", "y@example.org") == 400  # another visitor behind the same proxy
        db.session.remove()
        db.engine.dispose()


def test_an_anonymous_visitor_keeps_the_query_asked_for_and_a_form_sent_is_not_asked_again(client, world):
    assert client.get("/regions/?q=wales").headers["Location"] == "/login?next=/regions/?q%3Dwales"
    assert client.post("/cases/new").headers["Location"] == "/login"
