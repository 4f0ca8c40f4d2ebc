"""Deadlines on cases: the rules that count them, the admin's types, the case page, the lists,
the daily reminders (inbox and a real SMTP server) and the calendar feed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.cases import deadlines
from napo_tracker.cases.deadlines import DeadlineError, TypeDetails, compute_due_on, send_deadline_reminders
from napo_tracker.cases.models import CaseDeadline, CaseEntry, DeadlineType
from napo_tracker.extensions import db
from napo_tracker.kernel import clock
from napo_tracker.notifications.models import Notification

from .. import factories
from ..helpers import count, form_tokens, submit

# --- the rules ------------------------------------------------------------------------------


def test_working_days_skip_weekends_and_england_and_wales_bank_holidays(app):
    # Wed 23 Dec 2026 + 3 working days: 24 Dec, (25 Christmas, 26-27 weekend, 28 Boxing Day substitute), 29, 30.
    assert compute_due_on("working_days", 3, date(2026, 12, 23)) == date(2026, 12, 30)
    assert compute_due_on("working_days", 1, date(2026, 3, 6)) == date(2026, 3, 9)  # Friday to Monday


def test_calendar_days_and_months_less_a_day(app):
    assert compute_due_on("calendar_days", 14, date(2026, 3, 2)) == date(2026, 3, 16)
    assert compute_due_on("months_less_a_day", 3, date(2026, 1, 10)) == date(2026, 4, 9)
    # 31 January + 1 month is the last day of February, less a day.
    assert compute_due_on("months_less_a_day", 1, date(2026, 1, 31)) == date(2026, 2, 27)
    assert compute_due_on("months_less_a_day", 1, date(2028, 1, 31)) == date(2028, 2, 28)  # a leap year


@pytest.mark.parametrize(
    ("rule", "amount", "starts_on", "reason"),
    [
        ("fortnights", 2, date(2026, 3, 2), "Choose how the deadline is counted"),
        ("calendar_days", 0, date(2026, 3, 2), "at least one day or month"),
        ("working_days", -3, date(2026, 3, 2), "at least one day or month"),
        ("calendar_days", None, date(2026, 3, 2), "at least one day or month"),
        ("months_less_a_day", 37, date(2026, 3, 2), "cannot count more than 36"),
        ("calendar_days", 5000, date(2026, 3, 2), "cannot count more than 1096"),
        ("calendar_days", 10, None, "Enter the day the deadline counts from"),
        ("calendar_days", 10, date(9999, 12, 25), "past the calendar's last day"),
        ("months_less_a_day", 2, date(9999, 11, 30), "past the calendar's last day"),
        ("working_days", 780, date(2026, 3, 2), "at most 1098 days after it starts"),
    ],
)
def test_a_rule_that_cannot_be_computed_is_refused_with_the_reason(app, rule, amount, starts_on, reason):
    with pytest.raises(DeadlineError, match=reason):
        compute_due_on(rule, amount, starts_on)


# --- types ----------------------------------------------------------------------------------


def test_only_admins_define_types_and_bad_rules_are_refused(world):
    with pytest.raises(DeadlineError, match="Only an admin"):
        deadlines.create_deadline_type(world.official, TypeDetails("Hearing", "calendar_days", 14, 3))
    made = factories.make_deadline_type(world.admin, "Hearing", "calendar_days", 14)
    assert made.rule_text == "14 calendar days"
    with pytest.raises(DeadlineError, match="already a deadline type"):
        deadlines.create_deadline_type(world.admin, TypeDetails(" Hearing ", "calendar_days", 7, 3))
    with pytest.raises(DeadlineError, match="Remind between 0 and 60"):
        deadlines.create_deadline_type(world.admin, TypeDetails("Appeal", "calendar_days", 7, 61))
    assert count(DeadlineType) == 1


def test_the_types_page_is_for_admins_and_refuses_bad_input_with_a_message(client, login_as, world):
    for person in (world.london_rep, world.official):
        login_as(person)
        assert client.get("/cases/deadline-types").status_code == 403
        assert client.post("/cases/deadline-types", data={"name": "X"}).status_code in (400, 403)
    login_as(world.admin)
    page = client.get("/cases/deadline-types")
    assert page.status_code == 200
    bad = client.post(
        "/cases/deadline-types",
        data={
            **form_tokens(page.data),
            "name": "Tribunal claim",
            "rule": "months_less_a_day",
            "amount": "40",
            "remind_days_before": "7",
        },
    )
    assert bad.status_code == 400 and "cannot count more than 36" in bad.text
    garbage = client.post(
        "/cases/deadline-types",
        data={**form_tokens(page.data), "name": "\u202eevil", "rule": "x", "amount": "lots", "remind_days_before": ""},
    )
    assert garbage.status_code == 400
    good = client.post(
        "/cases/deadline-types",
        data={
            **form_tokens(page.data),
            "name": "Tribunal claim",
            "rule": "months_less_a_day",
            "amount": "3",
            "remind_days_before": "7",
        },
    )
    assert good.status_code == 302 and count(DeadlineType) == 1
    made = db.session.scalars(select(DeadlineType)).one()
    edit = client.get(f"/cases/deadline-types/{made.id}")
    assert edit.status_code == 200
    changed = submit(
        client,
        f"/cases/deadline-types/{made.id}",
        {"name": "Tribunal claim", "rule": "calendar_days", "amount": "2000", "remind_days_before": "7"},
    )
    assert changed.status_code == 400 and "cannot count more than 1096" in changed.text
    assert client.get("/cases/deadline-types/999999").status_code == 404
    login_as(world.london_rep)
    assert client.get(f"/cases/deadline-types/{made.id}").status_code == 403


# --- on a case ------------------------------------------------------------------------------


def test_a_deadline_is_set_on_the_timeline_and_in_the_audit_log_and_keeps_its_date(world):
    case = factories.make_case(world.london_rep, world.london)
    appeal = factories.make_deadline_type(world.admin, "Grievance appeal", "working_days", 5)
    deadline = factories.make_case_deadline(world.london_rep, case, appeal, date(2026, 12, 23))
    assert deadline.due_on == date(2027, 1, 4)  # 24, 29, 30, 31 Dec, (1 Jan), 4 Jan
    entry = db.session.scalars(select(CaseEntry).where(CaseEntry.kind == "deadline")).one()
    assert "Grievance appeal" in entry.body and "due Monday 4 January 2027" in entry.body
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.CASE_DEADLINE_SET)).one()
    deadlines.update_deadline_type(world.admin, appeal, TypeDetails("Grievance appeal", "calendar_days", 30, 3))
    db.session.commit()
    assert db.session.get_one(CaseDeadline, deadline.id).due_on == date(2027, 1, 4)


def test_a_deadline_needs_a_live_case_and_an_active_type(world):
    case = factories.make_case(world.london_rep, world.london)
    hearing = factories.make_deadline_type(world.admin, "Hearing", "calendar_days", 14)
    with pytest.raises(DeadlineError, match="Choose a deadline type"):
        deadlines.set_deadline(world.london_rep, case, None, clock.today())
    with pytest.raises(DeadlineError, match="too far from today"):
        deadlines.set_deadline(world.london_rep, case, hearing.id, date(1900, 1, 1))
    deadlines.update_deadline_type(world.admin, hearing, TypeDetails("Hearing", "calendar_days", 14, 3, False))
    with pytest.raises(DeadlineError, match="Choose a deadline type"):
        deadlines.set_deadline(world.london_rep, case, hearing.id, clock.today())
    db.session.rollback()
    assert count(CaseDeadline) == 0


def test_the_deadline_pages_keep_to_the_case_region_and_refuse_bad_input(client, login_as, world):
    case = factories.make_case(world.london_rep, world.london)
    hearing = factories.make_deadline_type(world.admin, "Hearing", "calendar_days", 14)
    deadline = factories.make_case_deadline(world.london_rep, case, hearing, clock.today())
    login_as(world.wales_rep)
    assert client.get(f"/cases/{case.reference}/deadlines/new").status_code == 404
    tokens = form_tokens(client.get("/cases/new").data)
    assert client.post(f"/cases/{case.reference}/deadlines/new", data=tokens).status_code == 404
    assert client.post(f"/cases/{case.reference}/deadlines/{deadline.id}/met", data=tokens).status_code == 404
    login_as(world.london_rep)
    page = client.get(f"/cases/{case.reference}/deadlines/new")
    assert page.status_code == 200 and "Hearing (14 calendar days)" in page.text
    for data, message in (
        ({"deadline_type_id": "0", "starts_on": "2026-03-02"}, "Choose a deadline type"),
        ({"deadline_type_id": str(hearing.id), "starts_on": "not a date"}, "Not a valid date"),
        ({"deadline_type_id": str(hearing.id), "starts_on": "9999-12-25"}, "too far from today"),
        ({"deadline_type_id": "x" * 500, "starts_on": ""}, "Deadline"),
    ):
        refused = client.post(f"/cases/{case.reference}/deadlines/new", data={**form_tokens(page.data), **data})
        assert refused.status_code == 400 and message in refused.text, data
    assert count(CaseDeadline) == 1
    other_case = factories.make_case(world.london_rep, world.london)
    # A deadline of another case, through this one's address: not found.
    assert client.post(f"/cases/{other_case.reference}/deadlines/{deadline.id}/met", data=tokens).status_code == 404
    met = client.post(f"/cases/{case.reference}/deadlines/{deadline.id}/met", data=tokens)
    assert met.status_code == 302 and db.session.get_one(CaseDeadline, deadline.id).met_on == clock.today()
    again = client.post(f"/cases/{case.reference}/deadlines/{deadline.id}/met", data=tokens)
    assert again.status_code == 400 and "already marked as met" in again.text


def test_an_overdue_deadline_is_flagged_on_the_case_page_and_the_list(client, login_as, world):
    late = factories.make_case(world.london_rep, world.london, title="Late appeal")
    fine = factories.make_case(world.london_rep, world.london, title="In time")
    appeal = factories.make_deadline_type(world.admin, "Grievance appeal", "calendar_days", 5)
    factories.make_case_deadline(world.london_rep, late, appeal, clock.today() - timedelta(days=10))
    factories.make_case_deadline(world.london_rep, fine, appeal, clock.today())
    login_as(world.london_rep)
    listing = client.get("/cases/").text
    rows = listing.split("<tr")
    late_row = next(row for row in rows if late.reference in row)
    fine_row = next(row for row in rows if fine.reference in row)
    assert "Deadline overdue" in late_row and "Deadline overdue" not in fine_row
    detail = client.get(f"/cases/{late.reference}").text
    assert 'id="deadlines"' in detail and "Overdue" in detail


# --- reminders ------------------------------------------------------------------------------


def _told(user) -> list[Notification]:
    return list(
        db.session.scalars(select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))
    )


def test_reminders_come_before_on_the_day_and_when_overdue_each_once(world):
    case = factories.make_case(world.london_rep, world.london, assigned_rep_id=world.london_rep.id)
    unassigned = factories.make_case(world.london_rep, world.london)
    hearing = factories.make_deadline_type(world.admin, "Hearing", "calendar_days", 10, remind_days_before=3)
    start = date(2026, 3, 2)  # due Thu 12 March
    factories.make_case_deadline(world.london_rep, case, hearing, start)
    factories.make_case_deadline(world.london_rep, unassigned, hearing, start)

    assert send_deadline_reminders(date(2026, 3, 8)) == 0  # four days before: not yet
    assert send_deadline_reminders(date(2026, 3, 9)) == 1
    assert send_deadline_reminders(date(2026, 3, 10)) == 0  # told once before the day
    assert send_deadline_reminders(date(2026, 3, 12)) == 1
    assert send_deadline_reminders(date(2026, 3, 13)) == 1
    assert send_deadline_reminders(date(2026, 3, 20)) == 0
    db.session.commit()
    told = _told(world.london_rep)
    assert [n.kind for n in told] == ["deadline_due", "deadline_due", "deadline_overdue"]
    assert told[1].message == f"{case.reference}: Hearing is due today (Thu 12 Mar 2026)."
    assert "overdue" in told[2].message and told[2].url == f"/cases/{case.reference}#deadlines"


def test_a_met_deadline_and_a_closed_case_remind_no_one(world):
    case = factories.make_case(world.london_rep, world.london, assigned_rep_id=world.london_rep.id)
    hearing = factories.make_deadline_type(world.admin, "Hearing", "calendar_days", 10)
    deadline = factories.make_case_deadline(world.london_rep, case, hearing, date(2026, 3, 2))
    deadlines.meet_deadline(world.london_rep, case, deadline, date(2026, 3, 5))
    assert send_deadline_reminders(date(2026, 3, 12)) == 0


def test_the_remind_command_lists_tells_and_emails(app, world, mail_server):
    case = factories.make_case(world.london_rep, world.london, assigned_rep_id=world.london_rep.id)
    hearing = factories.make_deadline_type(world.admin, "Hearing", "calendar_days", 10)
    factories.make_case_deadline(world.london_rep, case, hearing, date(2026, 3, 2))
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["cases", "remind", "--dry-run", "--date", "2026-03-12"])
    assert dry.exit_code == 0 and "would remind rep.london@example.org" in dry.output and count(Notification) == 0
    done = runner.invoke(args=["cases", "remind", "--date", "2026-03-12"])
    assert done.exit_code == 0, done.output
    assert "1 reminder(s) in inboxes for 2026-03-12; 1 e-mail(s) sent." in done.output
    (body,) = mail_server.bodies_to("rep.london@example.org")
    assert f"{case.reference}: Hearing is due today" in body and "https://tracker.example.org/cases/" in body
    assert case.title not in body  # references and dates only
    again = runner.invoke(args=["cases", "remind", "--date", "2026-03-12"])
    assert "0 reminder(s)" in again.output and len(mail_server.messages) == 1
    bad = runner.invoke(args=["cases", "remind", "--date", "12/03/2026"])
    assert bad.exit_code == 2


def test_the_calendar_feed_holds_case_deadlines_beside_notices(client, login_as, world):
    case = factories.make_case(world.london_rep, world.london, assigned_rep_id=world.london_rep.id)
    other = factories.make_case(world.wales_rep, world.wales, assigned_rep_id=world.wales_rep.id)
    hearing = factories.make_deadline_type(world.admin, "Disciplinary hearing", "calendar_days", 10)
    factories.make_case_deadline(world.london_rep, case, hearing, clock.today())
    factories.make_case_deadline(world.wales_rep, other, hearing, clock.today())
    notice = factories.make_served_notice(world.london_rep, world.london, clock.today())
    login_as(world.london_rep)
    page = submit(client, "/notices/calendar", {"action": "create"})
    path = page.text.split('id="feed-url">')[1].split("<")[0].replace("http://localhost", "")
    feed = client.application.test_client().get(path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    import icalendar

    parsed = icalendar.Calendar.from_ical(feed.data)
    events = {str(event["summary"]): event for event in parsed.walk("VEVENT")}
    assert f"Disciplinary hearing due: {case.reference}" in events
    assert f"Response due: {notice.reference}" in events
    assert events[f"Disciplinary hearing due: {case.reference}"].decoded("dtstart") == clock.today() + timedelta(
        days=10
    )
    assert other.reference not in feed.text and case.title not in feed.text
    assert all(len(line.encode()) <= 75 for line in feed.text.split("\r\n"))


# --- half-way failures ----------------------------------------------------------------------


def test_a_deadline_whose_audit_write_fails_leaves_no_deadline_and_no_timeline_line(
    app, client, login_as, world, monkeypatch
):
    case = factories.make_case(world.london_rep, world.london)
    hearing = factories.make_deadline_type(world.admin, "Hearing", "calendar_days", 14)
    entries_before = count(CaseEntry)
    login_as(world.london_rep)
    page = client.get(f"/cases/{case.reference}/deadlines/new")

    def broken_record(*args, **kwargs):
        db.session.flush()  # the deadline and its timeline line are in the database by now
        raise RuntimeError("the audit log is unavailable (test)")

    monkeypatch.setattr(deadlines, "record", broken_record)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post(
        f"/cases/{case.reference}/deadlines/new",
        data={**form_tokens(page.data), "deadline_type_id": str(hearing.id), "starts_on": clock.today().isoformat()},
    )
    assert response.status_code == 500
    assert count(CaseDeadline) == 0 and count(CaseEntry) == entries_before
