"""The first journey in a real browser: an admin creates a London rep, who sees only London."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, expect

from .browser import sign_in
from .factories import PASSWORD

pytestmark = pytest.mark.browser

REP_EMAIL = "amara.rep@example.org"
REP_PASSWORD = "a long demo passphrase"


def _log_in(page, base: str, email: str, password: str) -> None:
    sign_in(page, base, email, password)
    page.wait_for_url(base + "/")


def _has_no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_admin_creates_a_rep_who_sees_only_london(page, live_server, world):
    base = live_server
    console_errors: list[str] = []

    def keep_errors(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    page.on("console", keep_errors)

    # Anonymous: straight to the login page.
    page.goto(base + "/regions/")
    assert page.url.startswith(base + "/login")

    _log_in(page, base, "admin@example.org", PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("button", name="Admin").click()  # Bootstrap's dropdown, served locally
    nav.get_by_role("link", name="Users").click()
    page.get_by_role("link", name="Create a user").click()
    page.get_by_label("Email address").fill(REP_EMAIL)
    page.get_by_label("Name").fill("Amara Okafor")
    page.get_by_label("Role").select_option(label="Rep")
    page.get_by_label("Regions").select_option(label="London")
    page.get_by_label("Initial password").fill(REP_PASSWORD)
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text(f"Account created for {REP_EMAIL}.")).to_be_visible()
    expect(page.get_by_role("cell", name="Amara Okafor")).to_be_visible()
    page.set_viewport_size({"width": 320, "height": 720})
    for path in ("/admin/users/", "/admin/users/new", "/audit/", "/regions/", f"/regions/{world.wales.id}"):
        page.goto(base + path)
        assert _has_no_horizontal_scroll(page), path
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()

    # The new rep logs in and sees London's units, not Wales's.
    _log_in(page, base, REP_EMAIL, REP_PASSWORD)
    assert nav.get_by_role("button", name="Admin").count() == 0  # a rep has no admin menu
    nav.get_by_role("link", name="Regions and units").click()
    page.wait_for_url(base + "/regions/")
    content = page.locator("main").inner_text()
    assert "London PDU" in content and "London IOM" in content
    assert "Wales" not in content and "Cardiff" not in content
    page.locator("main").get_by_role("link", name="London").click()
    expect(page.get_by_role("cell", name="London PDU")).to_be_visible()
    response = page.goto(f"{base}/regions/{world.wales.id}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()

    # At 320 px wide nothing scrolls sideways, and the collapsed menu still logs out.
    page.set_viewport_size({"width": 320, "height": 720})
    for path in ("/", "/regions/", f"/regions/{world.london.id}", "/account/password"):
        page.goto(base + path)
        assert _has_no_horizontal_scroll(page), path
    page.get_by_role("button", name="Show or hide the menu").click()
    # Bootstrap marks the menu "show" once it has finished opening; click only then.
    expect(page.locator("#nav-menu")).to_have_class(re.compile(r"\bshow\b"))
    with page.expect_navigation(url=re.compile(re.escape(base) + r"/login")):
        page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    assert _has_no_horizontal_scroll(page)
    page.goto(base + "/regions/")
    assert re.match(re.escape(base) + r"/login", page.url)
    assert not [e for e in console_errors if "Content Security Policy" in e or "Refused" in e], console_errors
