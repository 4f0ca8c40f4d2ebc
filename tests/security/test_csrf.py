"""Every POST route, read from the URL map, refuses a request without a valid CSRF token
(400, the form-expired page) and changes nothing, for a visitor who could otherwise use it."""

from __future__ import annotations

import pytest

from .probe import changed_tables, route_ids, rule_for, snapshot
from .routes import ACCESS, OK, ROLES, example_url

# CSRF is checked before any view or query runs: the database plays no part. SQLite only, to keep
# the whole suite inside CI's half hour.
pytestmark = pytest.mark.sqlite_only

EXPIRED = b"This form has expired or was not sent from this site."


def _post_routes() -> list[tuple[str, str]]:
    return [(endpoint, method) for endpoint, method in route_ids() if method != "GET"]


@pytest.mark.parametrize("endpoint, method", _post_routes())
@pytest.mark.parametrize("token", ["none", "forged"])
def test_a_post_without_a_valid_token_is_refused_and_changes_nothing(app, scene, visitor, endpoint, method, token):
    policy = ACCESS[endpoint][method]
    allowed = [role for role in ROLES if policy.outcome(role) is OK] or (["anonymous"] if policy.is_public else [])
    assert allowed, f"{method} {endpoint}: nobody may use it"
    visitor.become(allowed[-1])
    url = example_url(rule_for(app, endpoint), scene)
    data = {} if token == "none" else {"csrf_token": visitor.token[:-4] + "AAAA"}
    before = snapshot()
    response = visitor.client.open(url, method=method, data=data, headers={"Referer": "https://evil.example/"})
    assert response.status_code == 400, f"{method} {endpoint} as {visitor.role}: {response.status_code}"
    assert EXPIRED in response.data
    assert not changed_tables(before, snapshot()), f"{method} {endpoint}: changed without a token"
