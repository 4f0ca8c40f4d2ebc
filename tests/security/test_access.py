"""Every endpoint, every visitor, every method: exactly what the table in routes.py says.

The routes are read from the app's URL map, so a new route is a new test here, and fails
until ``routes.ACCESS`` says who may reach it. Every answer is also checked for the security
headers, and for a redirect off the site (each request carries a hostile ``next=``).
"""

from __future__ import annotations

import pytest
from flask_login import login_user
from werkzeug.exceptions import Forbidden, Unauthorized

from napo_tracker.accounts.models import User
from napo_tracker.accounts.sessions import start_session
from napo_tracker.extensions import db
from napo_tracker.kernel.vocabulary import Role
from napo_tracker.security import PUBLIC_ENDPOINTS, roles_required

from .probe import (
    assert_security_headers,
    assert_stays_on_site,
    changed_tables,
    classify,
    matches,
    route_ids,
    rule_for,
    send,
    snapshot,
    url_map_app,
    with_next,
)
from .routes import ACCESS, EXPECTED_PUBLIC, OK, ROLES, every_route, example_url

# Who reaches which route is decided in Python (the gate, the roles, the views); the part the
# database decides, region scoping, is crossed on both databases in test_scope.py. SQLite only,
# to keep the whole suite inside CI's half hour.
pytestmark = pytest.mark.sqlite_only


def test_every_route_has_an_entry_in_the_access_table():
    routes = {(rule.endpoint, method) for rule, method in every_route(url_map_app())}
    table = {(endpoint, method) for endpoint, methods in ACCESS.items() for method in methods}
    assert not routes - table, (
        f"routes with no entry in tests/security/routes.py ACCESS: {sorted(routes - table)}; say who may reach them"
    )
    assert not table - routes, f"ACCESS names routes the app no longer has: {sorted(table - routes)}"


def test_the_public_endpoints_are_exactly_these():
    assert PUBLIC_ENDPOINTS == EXPECTED_PUBLIC
    open_to_anonymous = {
        endpoint for endpoint, methods in ACCESS.items() if any(policy.is_public for policy in methods.values())
    }
    assert open_to_anonymous == EXPECTED_PUBLIC


@pytest.mark.parametrize("endpoint, method", route_ids())
def test_each_visitor_gets_what_the_table_says(app, scene, visitor, reset_database, endpoint, method):
    assert endpoint in ACCESS and method in ACCESS[endpoint], (
        f"{method} {endpoint} has no entry in tests/security/routes.py ACCESS"
    )
    policy = ACCESS[endpoint][method]
    url = with_next(example_url(rule_for(app, endpoint), scene))
    failures = []
    for role in ROLES:
        visitor.become(role)
        expected = policy.outcome(role)
        before = snapshot() if method == "POST" and expected is not OK else None
        response = send(visitor.client, method, url, visitor.token)
        got = classify(response, role)
        context = f"{method} {endpoint} as {role}"
        if not matches(expected, got, method, response.status_code):
            shown = got.name if not isinstance(got, str) else got
            failures.append(f"{role}: expected {expected.name} ({policy.name}), got {shown} [{response.status_code}]")
        assert_stays_on_site(response, context)
        assert_security_headers(response, context, static=endpoint in ("static", "bootstrap.static"))
        response.close()
        if before is not None:
            changed = changed_tables(before, snapshot())
            assert not changed, f"{context}: refused, yet {changed} changed"
        elif method == "POST":
            reset_database()  # what one visitor did must not change what the next one finds
    assert not failures, f"{method} {endpoint}:\n" + "\n".join(failures)


def test_roles_required_refuses_on_its_own_without_the_gate(app, scene):
    """The gate sends anonymous visitors to login before any view runs; the decorator is the
    second line, so it must refuse by itself too (a view made public by mistake)."""
    view = roles_required(Role.ADMIN)(lambda: "reached")
    with app.test_request_context("/"), pytest.raises(Unauthorized):
        view()
    for ident, allowed in ((scene.rep_a_id, False), (scene.official_id, False), (scene.admin_id, True)):
        user = db.session.get(User, ident)
        assert user is not None
        start_session(user)
        with app.test_request_context("/"):
            login_user(user)
            if allowed:
                assert view() == "reached"
            else:
                with pytest.raises(Forbidden):
                    view()
