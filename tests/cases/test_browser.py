"""A rep's casework journey in a real browser."""

from __future__ import annotations

from datetime import timedelta

import pytest

from napo_tracker.cases.models import Case
from napo_tracker.extensions import db
from napo_tracker.kernel import clock

from ..browser import sign_in
from ..files import pdf_bytes

pytestmark = pytest.mark.browser


def test_rep_logs_a_case_adds_a_note_and_a_file_escalates_and_finds_it_overdue(
    page, live_server, world, make_member, tmp_path
):
    base = live_server
    member = make_member(name="Gwen Member", grade="NQO")
    letter = tmp_path / "letter to the PDU head.pdf"
    letter.write_bytes(pdf_bytes())
    errors: list[str] = []
    failed: list[str] = []

    def on_console(message):
        if message.type == "error":
            errors.append(message.text)

    def on_response(response):
        if response.status >= 400:
            failed.append(response.url)

    page.on("console", on_console)
    page.on("response", on_response)

    sign_in(page, base, world.london_rep.email)
    page.wait_for_url(base + "/")

    # The member's page (identity visible to this London rep) leads to a new case for them.
    page.goto(f"{base}/cases/members/{member.id}")
    assert page.locator("#member-name").inner_text() == "Gwen Member"
    page.get_by_role("link", name="Log a case for this member").click()
    page.get_by_label("Category").select_option("protected_caseload_breach")
    page.get_by_label("Title").fill("NQO on 118 % two days after qualifying")
    page.get_by_label("What is happening").fill("No protected caseload in the first year.")
    page.get_by_label("WMT %").fill("118")
    page.get_by_label("NQO or PQiP protected caseload breached").check()
    page.get_by_label("Assigned rep").select_option(label=world.london_rep.display_name)
    page.get_by_label("Next action", exact=True).fill("Write to the head of the PDU")
    page.get_by_label("Next action due").fill((clock.today() + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Save case").click()
    assert page.get_by_text("logged.").is_visible()
    reference = page.locator("h1 .ref").inner_text()
    assert reference.startswith(f"CASE-{clock.today().year}-")

    # A note on the timeline, then a letter attached.
    page.get_by_label("Kind").select_option("meeting")
    page.get_by_label("What happened").fill("Met the member and agreed to raise it with the SPO.")
    page.get_by_role("button", name="Add to timeline").click()
    assert page.locator(".timeline-entry").first.inner_text().count("Met the member") == 1
    page.get_by_label("File").set_input_files(str(letter))
    page.get_by_role("button", name="Attach").click()
    assert page.get_by_role("link", name="letter to the PDU head.pdf").is_visible()

    # Escalate.
    page.get_by_label("Move the case to").select_option("escalated")
    page.get_by_label("Note for the timeline").fill("The SPO did not reply.")
    page.get_by_role("button", name="Change status").click()
    assert page.locator("#case-status").inner_text() == "Escalated"

    # The next-action date passes (set in the past through the edit form): the case is overdue.
    page.get_by_role("link", name="Edit case").click()
    page.get_by_label("Next action due").fill((clock.today() - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Save case").click()
    page.goto(base + "/cases/")
    page.get_by_role("link", name="Overdue next actions").click()
    row = page.get_by_role("row").filter(has_text=reference)
    assert row.is_visible() and "overdue" in row.inner_text()

    # At phone width the list scrolls inside its table, not the page.
    page.set_viewport_size({"width": 320, "height": 700})
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.get_by_role("link", name=reference).click()
    assert page.locator("#case-status").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    assert failed == []
    case = db.session.query(Case).filter_by(reference=reference).one()
    assert (case.status, len(case.attachments), case.member_id) == ("escalated", 1, member.id)
