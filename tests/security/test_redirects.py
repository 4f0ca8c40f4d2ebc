"""No redirect takes a visitor off the site, whatever ``next=`` says.

Only the login page takes a target (``next=``, from the gate); every other route also gets a
hostile ``next=`` in test_access.py and none may follow it. Here the login page gets every
trick, before and after signing in, with and without two-factor sign-in.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest

from napo_tracker.security import is_safe_redirect

from ..factories import PASSWORD
from ..helpers import log_in

HOSTILE = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\\/evil.example",
    "https:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    " //evil.example/",
    "/\t/evil.example/",
    "/\n/evil.example/",
    "https://localhost@evil.example/",
    "//localhost%40evil.example",
    "\u3002evil.example",
]
# Paths on this site that only look like another: followed as the paths they are.
LOOKALIKES = ["/%09/evil.example", "%2F%2Fevil.example", "/%5Cevil.example", "/\u2215evil.example"]


def _lands_on_site(location: str) -> bool:
    parts = urlsplit(location)
    return parts.scheme in ("", "http") and parts.netloc in ("", "localhost") and not location.startswith("//")


@pytest.mark.parametrize("target", HOSTILE + LOOKALIKES)
def test_the_login_page_never_sends_anyone_off_the_site(app, client, scene, target):
    response = log_in(client, "rep.london@example.org", PASSWORD, next_path=target)
    assert response.status_code == 302
    assert _lands_on_site(response.headers["Location"]), response.headers["Location"]
    # Signed in already: the login page sends the person on, and still not off the site.
    again = client.get("/login?next=" + quote(target, safe=""))
    assert again.status_code == 302 and _lands_on_site(again.headers["Location"]), again.headers["Location"]


@pytest.mark.parametrize("target", HOSTILE)
def test_the_redirect_check_refuses_every_trick(target):
    assert not is_safe_redirect(target)


@pytest.mark.parametrize("target", ["/cases/", "/cases/CASE-2026-0001?tab=notes", "/notices/?status=served#x"])
def test_a_path_on_the_site_is_followed(app, client, scene, target):
    response = log_in(client, "rep.london@example.org", PASSWORD, next_path=target)
    assert response.headers["Location"] == target


def test_the_gate_sends_an_anonymous_visitor_back_to_the_page_asked_for(client, scene):
    response = client.get("/cases/?status=open")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login" and parse_qs(location.query) == {"next": ["/cases/?status=open"]}


@pytest.mark.parametrize(
    "target, safe",
    [
        ("/cases/?q=two words", True),  # a space is text in a path, not a trick
        ("/cases/?q=caf\u00e9\u0080", True),
        ("/cases/\x7f", False),
        ("/cases/\x1f", False),
    ],
)
def test_the_edges_of_the_character_rule(target, safe):
    assert is_safe_redirect(target) is safe
