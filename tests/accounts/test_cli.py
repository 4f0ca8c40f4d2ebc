"""`flask users create` and `flask users list`: clear errors, non-zero exits, nothing half-written."""

from __future__ import annotations

from sqlalchemy import select

from napo_tracker.accounts.models import User, user_by_email
from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.extensions import db

from ..helpers import count, log_in

PASSWORD = "a password from stdin"


def _user_count() -> int:
    return count(User)


def test_create_a_rep_with_password_from_stdin(app, world):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "New.Rep@Example.org",
            "--role",
            "rep",
            "--region",
            "london",
            "--region",
            "Wales",
            "--name",
            "New Rep",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created rep new.rep@example.org (London, Wales)." in result.output
    assert PASSWORD not in result.output
    user = user_by_email("new.rep@example.org")
    assert user is not None
    assert user.display_name == "New Rep" and user.role == "rep"
    assert [r.name for r in user.regions] == ["London", "Wales"]
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.USER_CREATED).order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None
    assert event.actor_label == "anonymous" and event.details["email"] == "new.rep@example.org"
    assert log_in(app.test_client(), "new.rep@example.org", PASSWORD).status_code == 302


def test_create_an_official_from_the_prompt(app, world):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "nat@example.org", "--role", "official"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    official = user_by_email("nat@example.org")
    assert official is not None and official.role == "official"


BAD_COMMANDS = [
    (["x@example.org", "--role", "superuser"], PASSWORD, "'superuser' is not one of 'rep', 'official', 'admin'"),
    (["x@example.org", "--role", "rep", "--region", "Atlantis"], PASSWORD, "no region called 'Atlantis'"),
    (["x@example.org", "--role", "rep"], PASSWORD, "A rep needs at least one region."),
    (
        ["REP.LONDON@example.org", "--role", "rep", "--region", "London"],
        PASSWORD,
        "An account with this email address already exists.",
    ),
    (["x@example.org", "--role", "admin"], "short", "Passwords need at least 12 characters."),
    (["x@example.org", "--role", "admin"], "", "Passwords need at least 12 characters."),
    (["not an email", "--role", "admin"], PASSWORD, "not a valid email address"),
    (["", "--role", "admin"], PASSWORD, "not a valid email address"),
]


def test_create_refuses_bad_input(app, world):
    before = _user_count()
    for args, stdin, message in BAD_COMMANDS:
        result = app.test_cli_runner().invoke(args=["users", "create", *args, "--password-stdin"], input=stdin + "\n")
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert _user_count() == before
    assert user_by_email("x@example.org") is None


def test_list_users(app, world):
    result = app.test_cli_runner().invoke(args=["users", "list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "rep.london@example.org\trep\tLondon\tactive" in lines
    assert "official@example.org\tofficial\tAll regions\tactive" in lines
