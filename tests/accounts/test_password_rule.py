"""One password rule (NIST SP 800-63B) for the admin pages, the change-password page and
`flask users create`: long enough, not common or breached, not built from the account."""

from __future__ import annotations

import pytest

from napo_tracker.accounts.models import User
from napo_tracker.accounts.passwords import PasswordRefused, check_password

from ..factories import PASSWORD
from ..helpers import count, submit

REFUSED = [
    ("aaaaaaaaaaaa", "harder password"),
    ("Password123!", "harder password"),
    ("qwertyuiop12", "harder password"),
    ("iloveyou1234", "harder password"),
    ("short", "at least 12 characters"),
    ("x" * 1025, "at most 1,024 characters"),
    ("rep.london@example.org1", "e-mail address or name"),
    ("REPLONDON-long-enough", "e-mail address or name"),
    ("Sam Highbury-Rep 2026!", "e-mail address or name"),
]


@pytest.mark.parametrize("password, reason", REFUSED)
def test_weak_common_and_own_passwords_are_refused(password, reason):
    with pytest.raises(PasswordRefused, match=reason):
        check_password(password, email="rep.london@example.org", name="Sam Highbury-Rep")


@pytest.mark.parametrize("password", ["correct horse battery staple", "amber ferry window 63", "Tr0ub4dor&3xyzzy"])
def test_long_uncommon_passwords_are_accepted(password):
    check_password(password, email="rep.london@example.org", name="Sam Highbury-Rep")


def test_a_short_name_inside_an_ordinary_word_is_not_refused():
    check_password("market stall umbrella", email="m@example.org", name="Mark")


def test_the_refusal_goes_next_to_the_field_it_names():
    with pytest.raises(PasswordRefused) as caught:
        check_password("aaaaaaaaaaaaa", field="new_password")
    assert caught.value.field == "new_password"


def test_the_admin_page_refuses_a_weak_password_for_an_admin(client, world, login_as):
    login_as(world.admin)
    before = count(User)
    response = submit(
        client,
        "/admin/users/new",
        {"email": "second.admin@example.org", "display_name": "Second", "role": "admin", "password": "Password123!"},
    )
    assert response.status_code == 400 and "Choose a harder password" in response.text
    assert count(User) == before


def test_the_command_line_uses_the_same_rule(app, world):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "cli.admin@example.org", "--role", "admin", "--password-stdin"],
        input="aaaaaaaaaaaaaaaa\n",
    )
    assert result.exit_code == 1 and "Choose a harder password" in result.output


def test_changing_to_a_weak_password_is_refused_next_to_the_new_password(client, world, login_as):
    login_as(world.london_rep)
    response = submit(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": "Password123!", "confirm": "Password123!"},
    )
    assert response.status_code == 400 and "Choose a harder password" in response.text
