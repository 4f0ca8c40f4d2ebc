"""Officials' pages: the queue, moderation beside the original, lists, export, access."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.extensions import db
from napo_tracker.kernel.errors import STALE_MESSAGE
from napo_tracker.testimonies import services
from napo_tracker.testimonies.models import Testimony

from .. import factories
from ..helpers import csrf_from, form_tokens
from .conftest import LONG_ENOUGH

IDENTIFYING = (
    "Sarah Jones from the Leeds office rang me on 07700 900123 on 12/03/2025; "
    "I'm 52 and email me at me@example.org if you need more."
)


def _post(client, reference: str, action: str, prefix: str, data: dict):
    page = client.get(f"/testimonies/{reference}")
    return client.post(
        f"/testimonies/{reference}/{action}",
        data={
            **form_tokens(page.data, f"{prefix}-"),
            **{f"{prefix}-{k}": v for k, v in data.items()},
            f"{prefix}-submit": "y",
        },
    )


def test_only_officials_and_admins_moderate(client, world, login_as):
    testimony = factories.make_testimony()
    response = client.get(f"/testimonies/{testimony.reference}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    login_as(world.official)
    assert client.get("/testimonies/TST-2026-9999").status_code == 404
    login_as(world.london_rep)
    for url in ("/testimonies/", f"/testimonies/{testimony.reference}", "/testimonies/export.csv"):
        assert client.get(url).status_code == 403
    token = csrf_from(client.get("/testimony").data)
    data = {"approve-csrf_token": token, "approve-public_text": LONG_ENOUGH, "approve-submit": "y"}
    assert client.post(f"/testimonies/{testimony.reference}/approve", data=data).status_code == 403
    assert db.session.get_one(Testimony, testimony.id).status == "submitted"


def test_the_queue_shows_new_testimonies_and_filters(client, world, login_as):
    waiting = factories.make_testimony(region=world.wales, grade="PSO", topics=["pay"])
    done = factories.make_testimony(mps=True, approved_by=world.official)
    login_as(world.admin)
    html = client.get("/testimonies/").get_data(as_text=True)
    assert waiting.reference in html and done.reference not in html
    assert 'alt="Bar chart of testimonies by topic' in html and "data:image/svg+xml;base64," in html
    assert '<td>Pay</td><td class="text-end">1</td>' in html
    everything = client.get("/testimonies/?status=").get_data(as_text=True)
    assert waiting.reference in everything and done.reference in everything
    by_region = client.get(f"/testimonies/?status=&region={world.wales.id}").get_data(as_text=True)
    assert waiting.reference in by_region and done.reference not in by_region
    forged = client.get("/testimonies/?status=<script>&region=abc&grade=x&topic=y&consent=z")
    assert forged.status_code == 200 and "<script>" not in forged.get_data(as_text=True).split("<main")[1]


def test_detail_marks_identifiers_and_suggests_a_redacted_text(client, world, login_as):
    testimony = factories.make_testimony(IDENTIFYING)
    login_as(world.official)
    html = client.get(f"/testimonies/{testimony.reference}").get_data(as_text=True)
    assert '<mark class="identifier identifier-name" title="likely name">Sarah Jones</mark>' in html
    assert '<mark class="identifier identifier-place" title="likely place name">Leeds</mark>' in html
    assert '<mark class="identifier identifier-phone" title="likely phone number">07700 900123</mark>' in html
    assert '<mark class="identifier identifier-email" title="likely email address">me@example.org</mark>' in html
    editor = html.split('name="approve-public_text"')[1].split("</textarea>")[0]
    assert "[name] from the [place name] office rang me on [phone number]" in editor


def test_approve_with_redactions_then_the_member_sees_it(client, world, login_as):
    testimony = factories.make_testimony(IDENTIFYING, mps=True)
    login_as(world.official)
    public = "A colleague rang me about my caseload; email me if you need more."
    response = _post(
        client, testimony.reference, "approve", "approve", {"public_text": public, "version": str(testimony.version)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get_one(Testimony, testimony.id)
    assert stored.status == "approved" and stored.public_text == public
    assert stored.may_quote_to("mps") and not stored.may_quote_to("press")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.TESTIMONY_APPROVED)).one()
    assert event.actor_id == world.official.id


def test_approval_refuses_contact_details_and_keeps_the_typed_text(client, world, login_as):
    testimony = factories.make_testimony(IDENTIFYING)
    login_as(world.official)
    typed = "Still has a phone number 07700 900123 in it, which must go."
    response = _post(
        client, testimony.reference, "approve", "approve", {"public_text": typed, "version": str(testimony.version)}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "email address or phone number" in html and typed in html
    assert db.session.get_one(Testimony, testimony.id).status == "submitted"

    too_short = _post(client, testimony.reference, "approve", "approve", {"public_text": "short", "version": "1"})
    assert too_short.status_code == 400 and "between 20 and 20,000" in too_short.get_data(as_text=True)


def test_a_second_official_with_an_old_page_is_told(client, world, login_as):
    testimony = factories.make_testimony()
    login_as(world.official)
    old_version = str(testimony.version)
    services.reject(world.admin, testimony, "decided elsewhere")
    db.session.commit()
    response = _post(
        client, testimony.reference, "approve", "approve", {"public_text": LONG_ENOUGH, "version": old_version}
    )
    assert response.status_code == 409
    assert "Someone else changed this testimony" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get_one(Testimony, testimony.id).status == "rejected"


def test_reject_ask_and_tag(client, world, login_as):
    testimony, code = factories.make_testimony_with_code()
    login_as(world.official)
    assert _post(client, testimony.reference, "reject", "reject", {"reason": ""}).status_code == 400
    assert (
        _post(
            client,
            testimony.reference,
            "reject",
            "reject",
            {"reason": "Names a colleague throughout", "version": str(testimony.version)},
        ).status_code
        == 302
    )
    assert (
        _post(client, testimony.reference, "question", "ask", {"question": "Is this still happening?"}).status_code
        == 302
    )
    assert _post(client, testimony.reference, "topics", "tag", {"topics": ["risk", "pay"]}).status_code == 302
    assert _post(client, testimony.reference, "topics", "tag", {"topics": ["nonsense"]}).status_code == 400
    db.session.expire_all()
    stored = db.session.get_one(Testimony, testimony.id)
    assert stored.status == "rejected" and stored.rejection_reason == "Names a colleague throughout"
    assert stored.topics == ["risk", "pay"]
    assert [f.question for f in stored.follow_ups] == ["Is this still happening?"]

    # The member sees "not used" and the question, never the internal reason.
    client.post("/logout")
    from ..helpers import submit

    html = submit(client, "/testimony/status", {"code": code}).get_data(as_text=True)
    assert "not used" in html and "Is this still happening?" in html and "Names a colleague" not in html


def test_withdrawn_testimonies_cannot_be_moderated(client, world, login_as):
    testimony = factories.make_testimony()
    services.withdraw(testimony)
    db.session.commit()
    login_as(world.official)
    html = client.get(f"/testimonies/{testimony.reference}").get_data(as_text=True)
    assert "withdrew this testimony" in html and 'name="approve-public_text"' not in html
    response = _post(
        client,
        testimony.reference,
        "approve",
        "approve",
        {"public_text": LONG_ENOUGH, "version": str(testimony.version)},
    )
    assert response.status_code == 400
    assert db.session.get_one(Testimony, testimony.id).status == "withdrawn"


def test_csv_export_holds_quotable_public_texts_only_and_is_formula_safe(client, world, login_as):
    formula = factories.make_testimony(
        '=HYPERLINK("http://evil.example","click") said a member', mps=True, press=False, approved_by=world.official
    )
    factories.make_testimony(
        "Approved but the member allowed no quotes at all.", mps=False, press=False, approved_by=world.official
    )
    factories.make_testimony("Waiting, with an ORIGINAL-ONLY phrase in it here.", mps=True)
    login_as(world.official)
    response = client.get("/testimonies/export.csv?status=")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "reference" and len(rows) == 2
    assert rows[1][0] == formula.reference
    assert rows[1][-1].startswith("'=HYPERLINK")
    assert "ORIGINAL-ONLY" not in text and "no quotes at all" not in text
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.TESTIMONIES_EXPORTED)).one()
    assert event.details["count"] == 1 and event.actor_id == world.official.id


def test_home_panel_counts_the_queue(client, world, login_as):
    factories.make_testimony()
    login_as(world.official)
    html = client.get("/").get_data(as_text=True)
    assert "Open the moderation queue" in html and "waiting for a decision" in html
    login_as(world.london_rep)
    assert "Open the moderation queue" not in client.get("/").get_data(as_text=True)


def test_a_record_saved_twice_at_once_with_no_form_answers_409(client, world, login_as, monkeypatch):
    """The blueprint's own error handler answers a lost race as the app does elsewhere."""

    def raced() -> dict[str, int]:
        raise StaleDataError("UPDATE statement on table 'testimonies' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(services, "status_counts", raced)
    login_as(world.official)
    response = client.get("/testimonies/")
    assert response.status_code == 409
    assert STALE_MESSAGE in response.get_data(as_text=True).replace("&#39;", "'")
