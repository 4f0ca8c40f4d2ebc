"""A rep finds a case with the search box, previews a letter from a template and sends it, in
a real browser."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from napo_tracker.extensions import db
from napo_tracker.letters.models import SentLetter
from tests import factories

from ..browser import sign_in

pytestmark = pytest.mark.browser


def test_rep_searches_then_sends_a_letter_from_a_template(page, live_server, world):
    base = live_server
    member = factories.make_member(world.london_rep, world.london, name="Gwen Member", membership_number="N-42")
    case = factories.make_case(world.london_rep, world.london, title="Harbourside office caseload", member_id=member.id)
    factories.make_letter_template(
        world.admin,
        name="Representation at a meeting",
        body="Dear manager,\n\nI will represent {{ member.name }} ({{ case.reference }}).\n\n{{ rep.name }}",
    )
    failed: list[str] = []
    page.on("response", lambda response: failed.append(response.url) if response.status >= 500 else None)

    sign_in(page, base, world.london_rep.email)
    page.wait_for_url(base + "/")
    page.get_by_label("Search", exact=True).fill("harbourside")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("link", name=case.reference).click()
    page.wait_for_url(f"{base}/cases/{case.reference}")

    page.get_by_role("link", name="Write a letter from a template").click()
    page.get_by_label("Template").select_option(label="Representation at a meeting (Representation at a meeting)")
    page.get_by_role("button", name="Preview").click()
    assert "tick that they agree" in page.locator("#letter-errors").inner_text()
    page.get_by_label("The member agrees to be named in this letter").check()
    page.get_by_role("button", name="Preview").click()
    assert "I will represent Gwen Member" in page.locator("#letter-preview").inner_text()
    page.get_by_role("button", name="Send: freeze it as a PDF and file it on the case").click()
    assert page.get_by_text("Letter sent").first.is_visible()
    letter = db.session.scalars(select(SentLetter)).one()
    assert letter.sha256 in page.locator("#letters-sent").inner_text()
    assert not failed
