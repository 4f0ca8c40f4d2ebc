"""A member on a phone sends a testimony and follows it; an official approves it redacted."""

from __future__ import annotations

import pytest

from ..browser import sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}
STORY = (
    "Since Sarah Jones left the Leeds office I hold 74 cases, twelve of them MAPPA. "
    "I go home at nine most nights and I am scared of missing something."
)


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_member_and_official_journey_at_phone_size(world, live_server, page, browser):
    official = world.official
    page.set_viewport_size(PHONE)

    # The member sends, on a 320 px screen, and keeps the code.
    page.goto(f"{live_server}/testimony")
    assert _fits_the_screen(page)
    page.get_by_label("What is happening at work?").fill(STORY)
    page.get_by_label("Region (optional)").select_option(label="London")
    page.get_by_label("Risk and public protection").check()
    page.get_by_label("Napo may quote my words, anonymously, in briefings to MPs").check()
    page.get_by_role("button", name="Send my testimony").click()
    page.get_by_text("This is your receipt code").wait_for()
    code = page.locator("#receipt-code").inner_text().strip()
    assert len(code) == 24
    page.get_by_role("button", name="Copy the code").wait_for()  # the page's script runs under the CSP
    assert _fits_the_screen(page)

    page.get_by_role("link", name="Check my testimony").click()
    page.get_by_label("Your receipt code").fill(code)
    page.get_by_role("button", name="Check").click()
    assert "Received" in page.locator("#testimony-status").inner_text()

    # An official, on another device, approves a redacted version.
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        office = desk.new_page()
        sign_in(office, live_server, official.email)
        office.get_by_text("Welcome").wait_for()
        office.goto(f"{live_server}/testimonies/")
        office.locator("a.ref").first.click()
        office.locator("#original-text").wait_for()
        assert office.locator("mark.identifier-name", has_text="Sarah Jones").count() == 1
        assert office.locator("mark.identifier-place", has_text="Leeds").count() == 1
        editor = office.get_by_label("Public text (redacted)")
        assert "[name]" in editor.input_value()
        editor.fill(
            "Since a colleague left my office I hold 74 cases, twelve of them MAPPA. "
            "I go home at nine most nights and I am scared of missing something."
        )
        office.get_by_role("button", name="Approve with this public text").click()
        office.get_by_text("is approved").wait_for()
    finally:
        desk.close()

    # Back on the phone, the member sees the decision and the words that may be quoted.
    page.goto(f"{live_server}/testimony/status")
    page.get_by_label("Your receipt code").fill(code)
    page.get_by_role("button", name="Check").click()
    assert "Approved" in page.locator("#testimony-status").inner_text()
    assert "Since a colleague left my office" in page.content()
    assert "Sarah Jones" not in page.content()
    assert _fits_the_screen(page)
