"""The public pages: form, receipt, status, answer and withdrawal, and what bad input gets."""

from __future__ import annotations

import logging
import re

from sqlalchemy import func, select

from napo_tracker.extensions import db
from napo_tracker.testimonies import services
from napo_tracker.testimonies.models import FollowUp, Testimony

from .. import factories
from ..helpers import csrf_from, submit
from .conftest import LONG_ENOUGH, form_data

CODE_RE = re.compile(r'id="receipt-code">([2-9A-Z-]+)<')


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Testimony)) or 0


def _send(client, **changes):
    return submit(client, "/testimony", form_data(**changes))


def _code_from_receipt(client) -> str:
    page = client.get("/testimony/receipt")
    match = CODE_RE.search(page.get_data(as_text=True))
    assert match, "no receipt code on the page"
    return match.group(1)


def _check(client, code: str):
    return submit(client, "/testimony/status", {"code": code})


def test_the_form_says_what_is_kept_and_needs_no_login(client, world):
    response = client.get("/testimony")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "What we keep, and what we do not" in html
    assert "IP address" in html and "the time of day" in html
    assert 'name="website"' in html  # the honeypot
    assert "Wales" in html and "Family court staff" in html
    assert "viewport" in html


def test_member_submits_keeps_the_code_and_sees_it_once(client, world):
    response = _send(
        client,
        region=str(world.wales.id),
        grade="NQO",
        service_band="under_2",
        topics=["workload", "protected_caseload"],
        has_mps_consent="y",
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/testimony/receipt")
    code = _code_from_receipt(client)
    again = client.get("/testimony/receipt").get_data(as_text=True)
    assert code not in again and "shown once" in again

    testimony = db.session.scalars(select(Testimony)).one()
    assert testimony.region_id == world.wales.id and testimony.grade == "NQO"
    assert testimony.topics == ["workload", "protected_caseload"]
    assert testimony.has_mps_consent and not testimony.has_press_consent
    assert testimony.receipt_hash == services.receipt_hash(code)

    status = _check(client, code.lower())
    assert status.status_code == 200
    assert "Received" in status.get_data(as_text=True)


def test_status_shows_the_decision_question_and_takes_an_answer(client, world):
    testimony, code = factories.make_testimony_with_code(mps=True)
    services.approve(world.official, testimony, "The public version the member will see quoted.")
    follow_up = services.ask_follow_up(world.official, testimony, "Which kind of unit do you work in?")
    db.session.commit()

    html = _check(client, code).get_data(as_text=True)
    assert "Approved" in html and "The public version the member will see quoted." in html
    assert "Which kind of unit do you work in?" in html
    assert LONG_ENOUGH not in html  # the original is not echoed back

    page = client.get("/testimony/status")
    response = client.post(
        "/testimony/status",
        data={
            "answer-csrf_token": csrf_from(page.data),
            "answer-code": code,
            "answer-follow_up_id": str(follow_up.id),
            "answer-answer": "A court team, with three officers covering five courts.",
            "answer-submit": "y",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "your answer has been sent" in response.get_data(as_text=True)
    db.session.expire_all()
    assert (db.session.get_one(FollowUp, follow_up.id).answer or "").startswith("A court team")


def _withdraw(client, code: str, confirm: bool = True):
    page = client.get("/testimony/status")
    data = {"withdraw-csrf_token": csrf_from(page.data), "withdraw-code": code, "withdraw-submit": "y"}
    if confirm:
        data["withdraw-confirm"] = "y"
    return client.post("/testimony/status", data=data)


def test_withdrawal_needs_confirmation_then_erases(client):
    testimony, code = factories.make_testimony_with_code(press=True)

    unconfirmed = _withdraw(client, code, confirm=False)
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.get_data(as_text=True)
    assert db.session.get_one(Testimony, testimony.id).status == "submitted"

    done = _withdraw(client, code)
    assert done.status_code == 200 and "withdrawn" in done.get_data(as_text=True).lower()
    db.session.expire_all()
    stored = db.session.get_one(Testimony, testimony.id)
    assert stored.status == "withdrawn" and stored.original_text is None

    # The withdrawn code again: a status, no forms, and withdrawing twice changes nothing.
    again = _check(client, code).get_data(as_text=True)
    assert "Withdrawn" in again and 'name="withdraw-submit"' not in again
    twice = _withdraw(client, code)
    assert twice.status_code == 409 and "already withdrawn" in twice.get_data(as_text=True)


def test_wrong_and_unknown_codes_get_the_same_answer(client, world):
    for code in ["ABCD", "ABCD-EFGH-JKMN-PQRS-TVWX", "<script>", "0" * 5000, "abcd-efgh-jkmn-pqrs-tvwx\x00"]:
        response = _check(client, code)
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "We could not find a testimony with that code." in html, code
        assert "<script>" not in html.split("<main")[1]
    empty = _check(client, "")
    assert empty.status_code == 400 and "Please enter your receipt code." in empty.get_data(as_text=True)


def test_a_thousand_random_codes_are_throttled_never_a_500(client, world):
    _testimony, real_code = factories.make_testimony_with_code()
    page = client.get("/testimony/status")
    token = csrf_from(page.data)
    statuses = []
    for _ in range(1000):
        guess = services.new_receipt_code()
        statuses.append(client.post("/testimony/status", data={"csrf_token": token, "code": guess}).status_code)
    assert set(statuses) == {400, 429}
    assert statuses[:10] == [400] * 10 and statuses[-1] == 429
    # Once throttled, even the right code waits: guessing cannot continue by mixing in a good one.
    assert client.post("/testimony/status", data={"csrf_token": token, "code": real_code}).status_code == 429


def test_right_codes_do_not_use_up_the_allowance_and_never_come_from_the_url(client):
    _testimony, code = factories.make_testimony_with_code()
    for _ in range(15):
        assert _check(client, code).status_code == 200
    # A code in a URL would land in browser history and proxy logs: a GET shows the empty form.
    response = client.get(f"/testimony/status?code={code}")
    assert response.status_code == 200 and "What has happened" not in response.get_data(as_text=True)


BAD_TEXTS = {
    "empty": ("", "Please write what you want to tell us."),
    "too short": ("Too busy.", "between 20 and 20,000"),
    "too long": ("a" * 20_001, "between 20 and 20,000"),
    "null byte": ("My caseload is\x00 far too high for anyone.", "characters we cannot accept"),
    "right-to-left override": ("My caseload is \u202e far too high for anyone.", "characters we cannot accept"),
}


def test_bad_text_is_refused_next_to_the_field(client, world):
    for name, (text, message) in BAD_TEXTS.items():
        response = _send(client, text=text)
        assert response.status_code == 400, name
        html = response.get_data(as_text=True)
        assert message in html, name
        assert 'id="text-error"' in html, name
    assert _count() == 0


def test_invalid_utf8_is_refused(client, world):
    token = csrf_from(client.get("/testimony").data)
    # Raw bytes that are not UTF-8, in a form the browser would send as multipart.
    body = (
        f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        '--b\r\nContent-Disposition: form-data; name="text"\r\n\r\n'
    ).encode() + b"My caseload \xff\xfe is far too high for anyone\r\n--b--\r\n"
    response = client.post("/testimony", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 400
    assert "characters we cannot accept" in response.get_data(as_text=True)
    # The same bytes url-encoded make the whole form unreadable: refused, never stored.
    raw = b"csrf_token=" + token.encode() + b"&text=My+caseload+\xff\xfe+is+far+too+high+for+anyone"
    response = client.post("/testimony", data=raw, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert _count() == 0


def test_a_megabyte_is_refused_without_a_500(client, world):
    response = _send(client, text="a" * 1_048_576)
    assert response.status_code in (400, 413)
    assert _count() == 0


FORGED = [
    ("region", "999999", "Choose a region from the list."),
    ("region", "<script>alert(1)</script>", "Choose a region from the list."),
    ("grade", "Chief Executive", "Choose a grade from the list."),
    ("grade", "<img src=x onerror=alert(1)>", "Choose a grade from the list."),
    ("service_band", "100 years", "Choose a length of service from the list."),
    ("topics", "<b>gossip</b>", "Choose only from the list."),
    ("has_mps_consent", "<script>", None),  # any value ticks a box: harmless, but never echoed
]


def test_forged_choices_are_refused(client, world):
    for field, value, message in FORGED:
        response = _send(client, **{field: value}, text="" if message is None else LONG_ENOUGH)
        assert response.status_code == 400, field
        html = response.get_data(as_text=True)
        assert message is None or message in html, field
        assert "<script>alert(1)" not in html and "<img src=x" not in html and "<b>gossip" not in html
        assert "<script>" not in html.split("<main")[1]
    assert _count() == 0


def test_markup_in_the_text_is_stored_as_text_and_escaped(client, world, login_as):
    text = "<script>alert('x')</script> and <b>bold</b> claims about my caseload"
    assert _send(client, text=text).status_code == 302
    stored = db.session.scalars(select(Testimony)).one()
    assert stored.original_text == text
    login_as(world.official)
    html = client.get(f"/testimonies/{stored.reference}").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_a_post_without_csrf_token_is_refused(client, world):
    response = client.post("/testimony", data=form_data())
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert _count() == 0
    assert client.post("/testimony/status", data={"code": "ABCD"}).status_code == 400


def test_the_honeypot_looks_like_success_but_stores_nothing(client, world):
    response = _send(client, website="http://spam.example")
    assert response.status_code == 302
    assert CODE_RE.search(client.get("/testimony/receipt").get_data(as_text=True))
    assert _count() == 0


def test_submissions_are_rate_limited(app, client, world):
    app.config["TESTIMONY_SUBMIT_RATE_LIMIT"] = "3 per hour"
    codes = [_send(client, text=f"{LONG_ENOUGH} ({n})").status_code for n in range(5)]
    assert codes == [302, 302, 302, 429, 429]
    assert _count() == 3


def test_only_the_session_cookie_is_ever_set(client, world):
    _t, code = factories.make_testimony_with_code()
    responses = [
        client.get("/testimony"),
        _send(client),
        client.get("/testimony/receipt"),
        client.get("/testimony/status"),
        _check(client, code),
    ]
    # same-origin: other sites learn nothing, yet our own form posts keep the Referer CSRF checks need
    assert all(r.headers["Referrer-Policy"] == "same-origin" for r in responses)
    names = {header.split("=", 1)[0] for r in responses for header in r.headers.getlist("Set-Cookie")}
    assert names <= {"napo_session"}
    for r in responses:
        for header in r.headers.getlist("Set-Cookie"):
            assert "Expires=" not in header or "1970" in header  # a browser-session cookie, not a lasting one


def test_errors_are_logged_without_the_request_body(client, world, monkeypatch, caplog):
    secret_words = "MARKER-secret-words-of-the-member"

    def broken(**kwargs):
        raise RuntimeError(f"database said no to {kwargs['text']}")

    monkeypatch.setattr(services, "submit_testimony", broken)
    caplog.set_level(logging.DEBUG)
    response = _send(client, text=f"{secret_words} and more words here")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)
    assert "RuntimeError" in caplog.text
    assert secret_words not in caplog.text
    assert _count() == 0
