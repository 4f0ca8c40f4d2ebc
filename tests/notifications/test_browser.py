"""A rep's week, in Chromium: a deadline set on a case, the morning's runs, a reminder and an
escalation in the inbox, the notice moved a rung by itself, and the rep's e-mail choices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from napo_tracker.kernel.clock import today

from .. import factories
from ..browser import sign_in

pytestmark = pytest.mark.browser


def test_a_reps_week_brings_a_deadline_reminder_and_an_escalation_to_the_inbox(page, live_server, app, world):
    base = live_server
    failed: list[str] = []
    page.on(
        "response",
        lambda response: (
            failed.append(response.url)
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    factories.make_deadline_type(world.admin, "Grievance appeal", "calendar_days", 2, remind_days_before=3)
    case = factories.make_case(world.london_rep, world.london, assigned_rep_id=world.london_rep.id, title="Caseload")
    # Served four weeks ago and never answered: its response is overdue.
    notice = factories.make_served_notice(world.london_rep, world.london, today() - timedelta(days=28))

    # Monday: the rep sets the appeal deadline on the case.
    sign_in(page, base, "rep.london@example.org")
    page.goto(f"{base}/cases/{case.reference}")
    page.get_by_role("link", name="Set a deadline").click()
    page.get_by_label("Deadline").select_option(label="Grievance appeal (2 calendar days)")
    page.get_by_label("Counted from").fill(today().isoformat())
    page.get_by_role("button", name="Set the deadline").click()
    due = today() + timedelta(days=2)
    expect(page.get_by_text(f"Deadline set: due {due:%A} {due.day} {due:%B %Y}.")).to_be_visible()
    expect(page.locator("#deadlines")).to_contain_text("Grievance appeal")

    # The morning's runs (the scheduler's jobs; cron runs the same commands).
    runner = app.test_cli_runner()
    for command in (["cases", "remind"], ["notices", "escalate"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output

    # The inbox has both, references and dates only.
    page.get_by_role("link", name="Inbox").first.click()
    inbox = page.locator("#inbox")
    expect(inbox).to_contain_text(f"{case.reference}: Grievance appeal is due {due:%a} {due.day} {due:%b %Y}.")
    expect(inbox).to_contain_text(f"Notice {notice.reference} escalated to line manager by the daily run")
    expect(inbox).not_to_contain_text("Caseload")
    expect(page.get_by_role("link", name="Unread (2)")).to_be_visible()

    # The escalation leads to the notice, moved one rung by itself.
    page.get_by_role("link", name=f"Notice {notice.reference} escalated to line manager", exact=False).click()
    page.wait_for_url(f"{base}/notices/{notice.reference}")
    expect(page.get_by_text("moved by the daily run: no response")).to_be_visible()
    expect(page.get_by_label("Escalate to")).to_have_value("senior_manager")  # the next rung only

    # Read, and from now on one digest a day for deadlines only.
    page.get_by_role("link", name="Inbox").first.click()
    page.get_by_role("button", name="Mark all 2 read").click()
    expect(page.get_by_text("2 notifications marked read.")).to_be_visible()
    page.get_by_role("link", name="What reaches me by e-mail").click()
    for label in ("A case assigned to you", "A notice escalated, or waiting for you to escalate it"):
        page.get_by_label(label).uncheck()
    page.get_by_label("One daily digest instead of an e-mail for each").check()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_text("Your choices are saved.")).to_be_visible()
    expect(page.get_by_label("A case assigned to you")).not_to_be_checked()
    assert failed == []
