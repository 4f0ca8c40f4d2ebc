"""An admin answers a member's subject access request, then erases them, in a real browser."""

from __future__ import annotations

import json
import zipfile

import pytest

from napo_tracker.cases.models import Member
from napo_tracker.extensions import db
from napo_tracker.kernel import clock
from napo_tracker.privacy.services import due_on_for

from ..browser import sign_in
from .test_erasure import make_records

pytestmark = pytest.mark.browser


def test_admin_answers_a_subject_access_request_and_erases_the_member(page, live_server, world, tmp_path):
    base = live_server
    records = make_records(world)
    errors: list[str] = []
    failed: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)

    # The notice members read, from any page's footer.
    page.goto(base + "/login")
    page.get_by_role("link", name="Privacy notice: what we keep about members").click()
    assert page.get_by_role("heading", name="How long we keep it").is_visible()
    assert "6 years after it was last touched" in page.locator("#retention-schedule").inner_text()

    sign_in(page, base, world.admin.email)
    page.goto(f"{base}/cases/members/{records.ada.id}")
    page.get_by_role("link", name="Record a subject access request").click()
    assert page.get_by_label("Member").input_value() == records.ada.pseudonym
    page.get_by_label("How it came").select_option("email")
    page.get_by_role("button", name="Record the request").click()
    assert f"{due_on_for(clock.today()):%-d %B %Y}" in page.locator("#due-on").inner_text()

    page.get_by_role("button", name="Make the export").click()  # a job: its page sends the admin back
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the export (ZIP)").click()
    saved = tmp_path / "export.zip"
    download.value.save_as(saved)
    data = json.loads(zipfile.ZipFile(saved).read("data.json"))
    assert data["member"]["name"] == "Ada Example"
    page.goto(page.url)  # the request's page again, now with the day of the export
    page.get_by_role("button", name="Mark as answered").click()
    assert page.get_by_text("answered.").is_visible()

    page.goto(f"{base}/cases/members/{records.ada.id}")
    page.get_by_role("link", name="Erase this member…").click()
    assert "2 case(s) anonymised" in page.locator("#erasure-plan").inner_text()
    page.get_by_label("Type the member's pseudonym to confirm").fill(records.ada.pseudonym)
    page.get_by_role("button", name="Erase this member").click()
    assert page.locator("#member-erased").is_visible()
    assert "Ada Example" not in page.content()

    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    assert failed == []
    db.session.expire_all()
    erased = db.session.get_one(Member, records.ada.id)
    assert erased.erased_on == clock.today() and erased.name == ""
