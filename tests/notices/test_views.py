"""Notice pages through the test client: forms, bad input, region isolation, feed, export."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, update

from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today
from napo_tracker.notices.models import CalendarToken, ForeseeabilityNotice

from ..factories import unit
from ..helpers import csrf_from, submit


def form_data(world, **overrides):
    data = {
        "kind": "individual",
        "signatory_count": "1",
        "region_id": str(world.london.id),
        "unit_id": str(unit(world.london, "London PDU").id),
        "served_to_name": "Jo Manager",
        "served_to_role": "Head of PDU",
        "wmt_percent": "138",
        "caseload": "55",
        "concerns": ["caseload_beyond_capacity", "unallocated_cases"],
        "concerns_detail": "",
        "letter_wording": "",
        "assigned_rep_id": "0",
    }
    data.update(overrides)
    return data


def first_group(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match, pattern
    return match.group(1)


def count_notices() -> int:
    return db.session.scalar(select(func.count()).select_from(ForeseeabilityNotice)) or 0


def test_a_rep_records_a_notice(client, world, login_as):
    login_as(world.london_rep)
    response = submit(client, "/notices/new", form_data(world))
    assert response.status_code == 302
    ref = response.headers["Location"].rsplit("/", 1)[-1]
    page = client.get(f"/notices/{ref}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert ref in html and "Jo Manager" in html and "138 %" in html and "Unallocated cases" in html


BAD_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"wmt_percent": "401"}, "WMT must be between 0 and 400"),
    ({"wmt_percent": "-5"}, "WMT must be between 0 and 400"),
    ({"wmt_percent": "lots"}, "Not a valid decimal"),
    ({"kind": "collective", "signatory_count": "0"}, "At least one signatory"),
    ({"kind": "collective", "signatory_count": "-2"}, "At least one signatory"),
    ({"kind": "collective", "signatory_count": ""}, "collective notice needs at least one signatory"),
    ({"served_to_name": ""}, "This field is required"),
    ({"served_to_name": "Jo\u202eManager"}, "characters we cannot accept"),
    ({"region_id": "999999"}, "Not a valid choice"),
    ({"concerns": ["nonsense"]}, "not a valid choice"),
    ({"case_reference": "CASE-2026-9999"}, "no case with that reference"),
]


def test_bad_notice_input_is_answered_400_next_to_the_field(client, world, login_as):
    login_as(world.london_rep)
    for overrides, message in BAD_INPUT:
        response = submit(client, "/notices/new", form_data(world, **overrides))
        html = response.get_data(as_text=True)
        assert response.status_code == 400, overrides
        assert message in html, overrides
        assert "invalid-feedback" in html, overrides
    assert count_notices() == 0


def test_a_rep_cannot_file_a_notice_in_another_region(client, world, login_as):
    login_as(world.london_rep)
    response = submit(
        client, "/notices/new", form_data(world, region_id=str(world.wales.id), unit_id=str(world.wales.units[0].id))
    )
    assert response.status_code == 400
    assert count_notices() == 0


def test_serve_in_the_future_is_refused_with_a_message(client, world, login_as, make_notice):
    notice = make_notice()
    login_as(world.london_rep)
    tomorrow = today() + timedelta(days=1)
    response = submit(
        client,
        f"/notices/{notice.reference}/serve",
        {"serve-served_on": tomorrow.isoformat()},
        form_url=f"/notices/{notice.reference}",
        field="serve-csrf_token",
    )
    assert response.status_code == 400
    assert "cannot be in the future" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get_one(ForeseeabilityNotice, notice.id).status == "draft"


def test_serve_then_record_the_response(client, world, login_as, make_notice):
    notice = make_notice()
    login_as(world.london_rep)
    served = today() - timedelta(days=3)
    response = submit(
        client,
        f"/notices/{notice.reference}/serve",
        {"serve-served_on": served.isoformat()},
        form_url=f"/notices/{notice.reference}",
        field="serve-csrf_token",
    )
    assert response.status_code == 302
    letter = client.get(f"/notices/{notice.reference}/letter.pdf")
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    db.session.expire_all()
    stored = db.session.get_one(ForeseeabilityNotice, notice.id)
    assert letter.data == stored.letter_pdf
    assert letter.headers["X-Content-SHA256"] == stored.letter_sha256
    # a response dated before service
    url = f"/notices/{notice.reference}/response"
    early = submit(
        client, url, {"received_on": (served - timedelta(days=1)).isoformat(), "summary": "x", "outcome": ""}
    )
    assert early.status_code == 400 and "cannot be before the notice was served" in early.get_data(as_text=True)
    done = submit(
        client,
        url,
        {"received_on": today().isoformat(), "summary": "Caseload cut by ten.", "outcome": "workload_reduced"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    stored = db.session.get_one(ForeseeabilityNotice, notice.id)
    assert stored.status == "responded" and stored.response_summary == "Caseload cut by ten."


def test_a_response_cannot_be_recorded_for_a_draft(client, world, login_as, make_notice):
    notice = make_notice()
    login_as(world.london_rep)
    page = client.get(f"/notices/{notice.reference}")
    token = csrf_from(page.data)
    response = client.post(
        f"/notices/{notice.reference}/response",
        data={"csrf_token": token, "received_on": today().isoformat(), "summary": "x"},
    )
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get_one(ForeseeabilityNotice, notice.id).response_received_on is None


def _notice_urls(app, ref: str):
    """Every notices route that addresses one record, with each of its methods."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("notices.") and "ref" in rule.arguments:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule.endpoint, method, rule.rule.replace("<ref>", ref)


def test_every_notice_route_is_404_outside_the_users_regions(app, client, world, login_as, make_notice):
    notice = make_notice(served_on=today())
    login_as(world.wales_rep)
    token = csrf_from(client.get("/notices/").data)
    checked = set()
    for endpoint, method, url in _notice_urls(app, notice.reference):
        data = (
            {
                "csrf_token": token,
                "serve-csrf_token": token,
                "escalate-csrf_token": token,
                "resolve-csrf_token": token,
                "received_on": today().isoformat(),
                "summary": "No",
                "escalate-step": "senior_manager",
                "escalate-raised_on": today().isoformat(),
                "resolve-outcome": "no_action",
            }
            if method == "POST"
            else None
        )
        response = client.open(url, method=method, data=data)
        assert response.status_code == 404, (endpoint, method, response.status_code)
        checked.add(endpoint)
    assert {
        "notices.detail",
        "notices.edit",
        "notices.serve",
        "notices.letter",
        "notices.respond",
        "notices.escalate",
        "notices.resolve",
    } <= checked
    db.session.expire_all()
    stored = db.session.get_one(ForeseeabilityNotice, notice.id)
    assert stored.status == "served" and stored.response_received_on is None and not stored.escalations
    # and nothing of it leaks through the list, the export or the figures
    for url in (
        "/notices/",
        "/notices/export.csv",
        "/notices/figures",
        "/notices/figures.csv",
        f"/notices/?region={world.london.id}",
    ):
        assert notice.reference not in client.get(url).get_data(as_text=True), url
    for url in ("/notices/figures", "/notices/figures.csv"):
        assert "London" not in client.get(url).get_data(as_text=True), url


def test_an_unknown_reference_is_404(client, world, login_as):
    login_as(world.official)
    assert client.get("/notices/FN-2026-9999").status_code == 404


def test_list_shows_overdue_and_filters(client, world, login_as, make_notice):
    overdue = make_notice(served_on=today() - timedelta(days=40))
    draft = make_notice(served_to_name="Draft Person")
    login_as(world.london_rep)
    html = client.get("/notices/").get_data(as_text=True)
    assert overdue.reference in html and draft.reference in html and "Overdue" in html
    html = client.get("/notices/?due=overdue").get_data(as_text=True)
    assert overdue.reference in html and draft.reference not in html
    html = client.get("/notices/?status=draft&region=abc&unit=zzz").get_data(as_text=True)
    assert draft.reference in html and overdue.reference not in html
    home = client.get("/").get_data(as_text=True)
    assert overdue.reference in home and "Overdue" in home


def test_csv_export_is_formula_safe_and_has_no_manager_names(client, world, login_as, make_notice):
    make_notice(served_to_role="=HYPERLINK(1)")
    login_as(world.london_rep)
    response = client.get("/notices/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert "'=HYPERLINK(1)" in body and "Jo Manager" not in body


def test_figures_page_shows_charts_and_tables(client, world, login_as, make_notice):
    make_notice(served_on=date(2026, 3, 2), today=date(2026, 3, 2))
    make_notice(user=world.wales_rep, region=world.wales, served_on=date(2026, 5, 4), today=date(2026, 5, 4))
    login_as(world.official)
    html = client.get("/notices/figures").get_data(as_text=True)
    assert "2026-03" in html and "2026-05" in html and "London" in html and "Wales" in html
    assert html.count('<img src="data:image/svg+xml') == 2
    csv = client.get("/notices/figures.csv").get_data(as_text=True)
    assert "month,region,served,awaiting" in csv and "2026-03,London,1,1" in csv and "2026-05,Wales,1,1" in csv


def test_edit_keeps_the_frozen_letter_and_detects_a_stale_form(client, world, login_as, make_notice):
    notice = make_notice(served_on=today())
    digest = notice.letter_sha256
    login_as(world.london_rep)
    page = client.get(f"/notices/{notice.reference}/edit")
    token = csrf_from(page.data)
    version = first_group(r'name="version" type="hidden" value="(\d+)"', page.get_data(as_text=True))
    ok = client.post(
        f"/notices/{notice.reference}/edit",
        data={**form_data(world, wmt_percent="150"), "csrf_token": token, "version": version},
    )
    assert ok.status_code == 302
    stale = client.post(
        f"/notices/{notice.reference}/edit",
        data={**form_data(world, wmt_percent="160"), "csrf_token": token, "version": version},
    )
    assert stale.status_code == 409
    assert "Someone else changed this notice after you opened it" in stale.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get_one(ForeseeabilityNotice, notice.id)
    assert stored.wmt_percent == 150 and stored.letter_sha256 == digest


def test_calendar_feed_is_private_revocable_and_carries_no_personal_details(client, world, login_as, make_notice):
    notice = make_notice(served_on=date(2026, 3, 2), today=date(2026, 3, 2))
    login_as(world.london_rep)
    page = submit(client, "/notices/calendar", {"action": "create"})
    assert page.status_code == 200
    feed_url = first_group(r'id="feed-url">([^<]+)<', page.get_data(as_text=True))
    path = feed_url.replace("http://localhost", "")
    stored = db.session.scalars(select(CalendarToken.token_sha256)).one()
    assert stored not in feed_url  # only the hash is kept
    anonymous = client.application.test_client()
    feed = anonymous.get(path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    body = feed.get_data(as_text=True)
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert "DTSTART;VALUE=DATE:20260316" in body and notice.reference in body
    # The WMT figure (142) appears nowhere; DTSTAMP is the time now, which may hold those digits.
    content = "\r\n".join(line for line in body.split("\r\n") if not line.startswith("DTSTAMP:"))
    assert "Jo Manager" not in body and "142" not in content
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    assert anonymous.get("/notices/calendar/not-a-real-token.ics").status_code == 404
    submit(client, "/notices/calendar", {"action": "revoke"})
    assert anonymous.get(path).status_code == 404


def test_two_people_saving_at_once_the_second_is_told(client, world, login_as, make_notice):
    notice = make_notice(served_on=today())
    login_as(world.london_rep)
    token = csrf_from(client.get(f"/notices/{notice.reference}/response").data)
    seen = notice.version  # this session now holds the notice as it was
    with db.engine.begin() as other:  # someone else saves it meanwhile
        other.execute(
            update(ForeseeabilityNotice)
            .where(ForeseeabilityNotice.id == notice.id)
            .values(version=seen + 1, response_summary="Theirs")
        )
    response = client.post(
        f"/notices/{notice.reference}/response",
        data={"csrf_token": token, "received_on": today().isoformat(), "summary": "Mine", "outcome": ""},
    )
    assert response.status_code == 409
    assert "Someone else changed this after you opened it" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get_one(ForeseeabilityNotice, notice.id).response_summary == "Theirs"
