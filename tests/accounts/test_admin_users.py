"""Admin pages for users: list, create, edit role and regions, deactivate; audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from napo_tracker.accounts.models import User, user_by_email
from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.extensions import db

from ..factories import PASSWORD
from ..helpers import count, csrf_from, log_in, submit


def _user_count() -> int:
    return count(User)


def _events(action: AuditAction) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _new_rep(world, **changes) -> dict:
    data = {
        "email": "new.rep@example.org",
        "display_name": "New Rep",
        "role": "rep",
        "regions": [str(world.london.id)],
        "password": "a long enough password",
    }
    data.update(changes)
    return data


def test_only_admins_reach_user_pages(client, world, login_as):
    for user in (world.london_rep, world.official):
        login_as(user)
        for url in ("/admin/users/", "/admin/users/new", f"/admin/users/{world.wales_rep.id}"):
            response = client.get(url)
            assert response.status_code == 403, (user.email, url)
            assert b"Your account does not allow this." in response.data


def test_non_admin_cannot_create_users_by_post(client, world, login_as):
    login_as(world.official)
    token = csrf_from(client.get("/account/password").data)
    response = client.post("/admin/users/new", data={"csrf_token": token, **_new_rep(world)})
    assert response.status_code == 403
    assert user_by_email("new.rep@example.org") is None


def test_admin_lists_users(client, world, login_as):
    login_as(world.admin)
    response = client.get("/admin/users/")
    assert response.status_code == 200
    for email in ("rep.london@example.org", "rep.wales@example.org", "official@example.org"):
        assert email.encode() in response.data
    assert response.headers["Cache-Control"] == "no-store"


def test_admin_creates_a_rep(client, world, login_as):
    login_as(world.admin)
    response = submit(client, "/admin/users/new", _new_rep(world, email="New.Rep@Example.org"))
    assert response.status_code == 302
    user = user_by_email("new.rep@example.org")
    assert user is not None
    assert user.email == "new.rep@example.org"
    assert user.role == "rep" and [r.name for r in user.regions] == ["London"]
    event = _events(AuditAction.USER_CREATED)[-1]
    assert event.actor_label == "admin@example.org"
    assert event.details == {"email": "new.rep@example.org", "role": "rep", "regions": ["London"]}
    assert "password" not in str(event.details)
    # and the new rep can log in
    assert log_in(client.application.test_client(), "new.rep@example.org", "a long enough password").status_code == 302


BAD_NEW_USERS: list[tuple[dict[str, Any], bytes]] = [
    ({"regions": []}, b"Choose at least one region for a rep."),
    ({"email": "REP.LONDON@example.org"}, b"An account with this email address already exists."),
    ({"email": ""}, b"This field is required."),
    ({"email": "not-an-email"}, b"Invalid email address."),
    ({"email": "a" * 10_000 + "@example.org"}, b"Field cannot be longer than 254 characters."),
    ({"display_name": ""}, b"This field is required."),
    ({"display_name": "n" * 10_000}, b"Field cannot be longer than 120 characters."),
    ({"display_name": "Evil\u202eName"}, b"characters we cannot accept"),
    ({"role": "superuser"}, b"Not a valid choice."),
    ({"regions": ["99999"]}, b"not a valid choice"),
    ({"regions": ["London"]}, b"Invalid choice(s): one or more data inputs could not be coerced."),
    ({"password": "short"}, b"Field must be between 12 and 1024 characters long."),
]


def test_create_user_bad_input(client, world, login_as):
    login_as(world.admin)
    before = _user_count()
    for changes, message in BAD_NEW_USERS:
        response = submit(client, "/admin/users/new", _new_rep(world, **changes))
        assert response.status_code == 400, changes
        assert message in response.data, changes
    assert _user_count() == before
    assert len(_events(AuditAction.USER_CREATED)) == 4  # only the world's four


def test_create_user_escapes_html(client, world, login_as):
    login_as(world.admin)
    script = "<script>alert('x')</script>"
    response = submit(client, "/admin/users/new", _new_rep(world, display_name=script))
    assert response.status_code == 302
    page = client.get("/admin/users/")
    assert b"<script>alert" not in page.data
    assert b"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.data


def test_create_user_with_undecodable_bytes_writes_nothing(client, world, login_as):
    login_as(world.admin)
    token = csrf_from(client.get("/admin/users/new").data)
    body = (
        b"csrf_token="
        + token.encode()
        + b"&email=x%40example.org&display_name=\xff\xfe&role=rep&regions="
        + str(world.london.id).encode()
        + b"&password=a+long+enough+password"
    )
    response = client.post("/admin/users/new", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert user_by_email("x@example.org") is None


def test_admin_changes_role_and_regions(client, world, login_as):
    login_as(world.admin)
    url = f"/admin/users/{world.london_rep.id}"
    page = client.get(url)
    assert page.status_code == 200
    assert b'value="rep.london"' in page.data or b"rep.london" in page.data
    response = submit(
        client,
        url,
        {
            "display_name": "London and Wales rep",
            "role": "rep",
            "regions": [str(world.london.id), str(world.wales.id)],
            "is_active": "y",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert [r.name for r in world.london_rep.regions] == ["London", "Wales"]
    assert _events(AuditAction.USER_CHANGED)[-1].details == {"changes": {"regions": [["London"], ["London", "Wales"]]}}

    response = submit(client, url, {"display_name": "Now an official", "role": "official", "is_active": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert world.london_rep.role == "official" and world.london_rep.regions == []
    assert _events(AuditAction.USER_CHANGED)[-1].details["changes"]["role"] == ["rep", "official"]


def test_admin_deactivates_a_user_whose_session_then_ends(app, client, world, login_as):
    rep_client = app.test_client()
    log_in(rep_client, "rep.wales@example.org", PASSWORD)
    assert rep_client.get("/regions/").status_code == 200

    login_as(world.admin)
    response = submit(
        client,
        f"/admin/users/{world.wales_rep.id}",
        {"display_name": "Wales rep", "role": "rep", "regions": [str(world.wales.id)]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert world.wales_rep.is_active is False
    assert [e.target_ref for e in _events(AuditAction.USER_DEACTIVATED)] == [str(world.wales_rep.id)]
    assert rep_client.get("/regions/").headers["Location"].startswith("/login")
    assert b"Deactivated" in client.get("/admin/users/").data

    response = submit(
        client,
        f"/admin/users/{world.wales_rep.id}",
        {"display_name": "Wales rep", "role": "rep", "regions": [str(world.wales.id)], "is_active": "y"},
    )
    assert response.status_code == 302
    assert len(_events(AuditAction.USER_REACTIVATED)) == 1
    assert log_in(rep_client, "rep.wales@example.org", PASSWORD).status_code == 302


def test_admin_cannot_deactivate_or_demote_themself(client, world, login_as):
    login_as(world.admin)
    url = f"/admin/users/{world.admin.id}"
    response = submit(client, url, {"display_name": "Admin", "role": "admin"})
    assert response.status_code == 400
    assert b"You cannot deactivate yourself or change your own role." in response.data
    response = submit(
        client, url, {"display_name": "Admin", "role": "rep", "regions": [str(world.london.id)], "is_active": "y"}
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert world.admin.is_active and world.admin.role == "admin"
    assert not _events(AuditAction.USER_CHANGED)


def test_edit_user_bad_input(client, world, login_as):
    login_as(world.admin)
    url = f"/admin/users/{world.london_rep.id}"
    for data, message in [
        ({"display_name": "", "role": "rep", "regions": [str(world.london.id)]}, b"This field is required."),
        (
            {"display_name": "x" * 10_000, "role": "rep", "regions": [str(world.london.id)]},
            b"Field cannot be longer than 120 characters.",
        ),
        ({"display_name": "Rep", "role": "rep", "regions": []}, b"Choose at least one region for a rep."),
        ({"display_name": "Rep", "role": "root", "regions": []}, b"Not a valid choice."),
    ]:
        response = submit(client, url, data)
        assert response.status_code == 400, data
        assert message in response.data, data
    db.session.expire_all()
    assert world.london_rep.is_active and [r.name for r in world.london_rep.regions] == ["London"]
    assert client.get("/admin/users/99999").status_code == 404


def test_create_user_with_undecodable_multipart_field(client, world, login_as):
    login_as(world.admin)
    token = csrf_from(client.get("/admin/users/new").data)
    fields = {
        "csrf_token": token.encode(),
        "email": b"y@example.org",
        "display_name": b"Bad \xff\xfe name",
        "role": b"rep",
        "regions": str(world.london.id).encode(),
        "password": b"a long enough password",
    }
    body = (
        b"".join(
            b'--XyZ\r\nContent-Disposition: form-data; name="' + name.encode() + b'"\r\n\r\n' + value + b"\r\n"
            for name, value in fields.items()
        )
        + b"--XyZ--\r\n"
    )
    response = client.post("/admin/users/new", data=body, content_type="multipart/form-data; boundary=XyZ")
    assert response.status_code == 400
    assert b"characters we cannot accept" in response.data
    assert user_by_email("y@example.org") is None
