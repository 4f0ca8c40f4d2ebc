"""Deny by default, safe redirects and security headers."""

from __future__ import annotations

import re

import pytest
from werkzeug.routing.converters import NumberConverter

from napo_tracker.security import PUBLIC_ENDPOINTS, is_safe_redirect


def _example_url(rule) -> str:
    """A concrete URL for a rule, filling each argument with a plausible value."""
    url = rule.rule
    for arg in rule.arguments:
        value = "1" if isinstance(rule._converters[arg], NumberConverter) else "X-1"
        url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(arg) + r">", value, url)
    return url


def test_every_non_public_endpoint_sends_anonymous_visitors_to_login(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _example_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            if rule.endpoint.startswith("api."):
                assert response.status_code == 401, (rule.endpoint, method, response.status_code)
            else:
                assert response.status_code == 302, (rule.endpoint, method, response.status_code)
                assert response.headers["Location"].startswith("/login"), (rule.endpoint, method)
            checked += 1
    assert checked > 5


def test_public_endpoints_are_few_and_named():
    assert "accounts.login" in PUBLIC_ENDPOINTS
    assert "main.healthz" in PUBLIC_ENDPOINTS
    assert "privacy.notice" in PUBLIC_ENDPOINTS  # members read it without an account
    # members' help: the index and search list only public pages to a visitor
    assert {"help.index", "help.member_page", "help.search_help"} <= PUBLIC_ENDPOINTS
    assert "help.page" not in PUBLIC_ENDPOINTS  # staff help needs a login
    assert len(PUBLIC_ENDPOINTS) < 16


@pytest.mark.parametrize(
    "target, safe",
    [
        ("/cases/", True),
        ("/cases/CASE-2026-0001?tab=notes", True),
        ("//evil.example/", False),
        ("/\\evil.example/", False),
        ("https://evil.example/", False),
        ("javascript:alert(1)", False),
        ("/\tjavascript", False),
        ("", False),
        (None, False),
    ],
)
def test_safe_redirects(target, safe):
    assert is_safe_redirect(target) is safe


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_health_check(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_pages_load_nothing_from_other_sites(client, world, login_as):
    login_as(world.admin)
    for url in ("/", "/regions/", "/admin/users/", "/audit/"):
        html = client.get(url).data.decode()
        for attribute in re.findall(r'(?:src|href)="([^"]*)"', html):
            assert not re.match(r"(?:[a-z]+:)?//", attribute, re.I), (url, attribute)
    css = client.get("/regions/").data.decode()
    assert '<link rel="stylesheet" href="/bootstrap/static/css/bootstrap.min.css">' in css
    response = client.get("/bootstrap/static/css/bootstrap.min.css")
    assert response.status_code == 200 and response.data.startswith(b"@charset")
    response.close()


def test_out_of_region_record_answers_like_a_missing_one(app, world):
    from sqlalchemy import select
    from werkzeug.exceptions import NotFound

    from napo_tracker.extensions import db
    from napo_tracker.regions.models import Unit
    from napo_tracker.regions.scoping import get_for_user_or_404, scope_to_regions

    cardiff = next(u for u in world.wales.units if u.name == "Cardiff and the Vale")
    with pytest.raises(NotFound):
        get_for_user_or_404(world.london_rep, Unit, Unit.id == cardiff.id)
    with pytest.raises(NotFound):
        get_for_user_or_404(world.london_rep, Unit, Unit.id == 99999)
    assert get_for_user_or_404(world.wales_rep, Unit, Unit.id == cardiff.id) is cardiff
    assert get_for_user_or_404(world.official, Unit, Unit.id == cardiff.id) is cardiff
    names = db.session.scalars(scope_to_regions(select(Unit.name), Unit.region_id, world.london_rep)).all()
    assert sorted(names) == ["London IOM", "London PDU"]
