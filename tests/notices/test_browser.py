"""A rep records a notice, prints the letter, serves it, and later records the response: in Chromium."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from napo_tracker.kernel.clock import today
from napo_tracker.notices.services import add_working_days

from ..browser import sign_in

pytestmark = pytest.mark.browser


def test_a_rep_records_a_notice_prints_the_letter_and_records_the_response(page, live_server, world):
    base = live_server
    console_errors: list[str] = []
    failed: list[str] = []

    def on_console(message) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    def on_response(response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            failed.append(response.url)

    page.on("console", on_console)
    page.on("response", on_response)
    page.set_viewport_size({"width": 320, "height": 800})

    sign_in(page, base, "rep.london@example.org")
    page.wait_for_url(base + "/")

    # Record the notice: a team of seven, through the form.
    page.goto(base + "/notices/")
    page.get_by_role("link", name="Record a notice").click()
    page.wait_for_url(base + "/notices/new")
    page.wait_for_load_state("load")
    expect(page.get_by_label("Number of signatories")).to_be_hidden()  # individual by default
    page.get_by_label("Kind of notice").select_option("collective")
    expect(page.get_by_label("Number of signatories")).to_be_visible()
    page.get_by_label("Number of signatories").fill("7")
    page.get_by_label("Unit", exact=True).select_option(label="London PDU (London)")
    page.get_by_label("Served to (manager's name)").fill("Morgan Example")
    page.get_by_label("Manager's role").fill("Head of PDU")
    page.get_by_label("WMT % at the time").fill("141")
    page.get_by_label("Caseload at the time").fill("59")
    page.get_by_label("Caseload beyond capacity").check()
    page.get_by_label("Unallocated cases").check()
    page.get_by_role("button", name="Save notice").click()
    expect(page.get_by_text("saved as a draft")).to_be_visible()
    reference = page.locator("h1 .ref").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")

    # Print the draft letter: the link serves a PDF with the figures.
    href = page.get_by_role("link", name="Print the draft letter (PDF)").get_attribute("href")
    draft = page.request.get(base + href)
    assert draft.ok and draft.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(draft.body())).pages[0].extract_text()
    assert "141 %" in text and "Morgan Example" in text and "DRAFT" in text

    # Serve it today: the due date is ten working days on, and the letter is frozen.
    page.get_by_label("Date served").fill(today().isoformat())
    page.get_by_role("button", name="Mark as served and freeze the letter").click()
    due = add_working_days(today(), 10)
    expect(page.get_by_text(f"A written response is due by {due:%A %d %B %Y}").first).to_be_visible()
    frozen = page.request.get(
        base + page.get_by_role("link", name="Download the letter as served (PDF)").get_attribute("href")
    )
    assert f"{due:%A %d %B %Y}" in PdfReader(io.BytesIO(frozen.body())).pages[0].extract_text()

    # Later: management answers.
    page.get_by_role("link", name="Record management's response").click()
    page.get_by_label("What management said").fill("Two cases each will be reallocated by the end of the month.")
    page.get_by_label("Outcome so far").select_option(label="Workload partly reduced")
    page.get_by_role("button", name="Record the response").click()
    expect(page.get_by_text("Response recorded: the clock has stopped.")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("Responded")
    expect(page.get_by_text("Workload partly reduced").first).to_be_visible()

    page.goto(base + "/notices/")
    expect(page.get_by_role("link", name=reference)).to_be_visible()
    assert failed == [], failed
    assert [e for e in console_errors if "404" not in e] == []  # the browser's own favicon probe may 404
