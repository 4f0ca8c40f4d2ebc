"""In a real browser: an official composes a briefing from evidence, testimonies and the question
bank, previews it, fixes a blocking check, publishes it and downloads the PDF."""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfReader

from napo_tracker.briefings.models import Briefing
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today
from tests.factories import make_question

from ..browser import sign_in
from .conftest import make_evidence, make_testimony

pytestmark = pytest.mark.browser


# The journey is the same on both databases (the view tests cover each): run once for speed.
@pytest.mark.sqlite_only
def test_official_composes_previews_fixes_publishes_and_downloads(page, live_server, world):
    base = live_server
    figure = make_evidence(world.official, region=world.london, value="192", source_title="London PDU workload return")
    testimony = make_testimony(world.official, text="I have not had a lunch break in weeks; the cases never stop.")
    make_question(world.official, text="What is the target staffing level for each region?", topics="staffing")
    errors: list[str] = []

    def on_console(message) -> None:
        if message.type == "error":
            errors.append(message.text)

    failed: list[str] = []

    def on_response(r) -> None:
        if r.status >= 400 and not r.url.endswith("/favicon.ico"):
            failed.append(r.url)

    page.on("console", on_console)
    page.on("response", on_response)

    sign_in(page, base, "official@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Briefings").click()
    page.get_by_role("link", name="Start a briefing").click()
    page.get_by_label("Title", exact=True).fill("Unsafe caseloads in London")
    page.get_by_label("Subtitle").fill("A briefing from the union for parliamentarians")
    page.get_by_label("Audience", exact=True).select_option(label="MPs and peers")
    page.get_by_label("Date", exact=True).fill(today().isoformat())
    page.get_by_role("button", name="Save briefing").click()
    page.get_by_text("started.").wait_for()

    page.get_by_label("Kind of section").select_option(label="Regional evidence")
    page.get_by_label("Heading", exact=True).fill("London")
    page.get_by_label("Text", exact=True).fill("What staff in London report:")
    page.get_by_role("button", name="Add section").click()
    page.get_by_text("Section “London” added.").wait_for()

    page.get_by_role("link", name="Cite evidence").click()
    page.get_by_role("button", name=f"Cite {figure.reference}").click()
    page.get_by_text(f"{figure.reference} cited in “London”.").wait_for()
    page.get_by_role("link", name="Back to the briefing").click()

    page.get_by_role("link", name="Choose testimonies").click()
    page.get_by_label(testimony.reference, exact=False).check()
    page.get_by_role("button", name="Save the testimonies quoted").click()
    page.get_by_text("Testimonies saved.").wait_for()

    page.get_by_role("link", name="Questions", exact=True).click()
    page.get_by_role("button", name="Add this question").click()
    page.get_by_text("Question added.").wait_for()
    page.get_by_role("link", name="Back to the briefing").click()

    page.get_by_role("link", name="Preview").click()
    document = page.locator("article.briefing-doc")
    document.get_by_text("Questions you may wish to ask").wait_for()
    text = document.inner_text()
    assert "192% (London, " in text and "[1]" in text and "London PDU workload return" in text
    assert "I have not had a lunch break in weeks" in text
    assert "1 problem(s) block publishing" in page.locator("main").inner_text()
    page.get_by_role("link", name="1 problem(s) block publishing").click()

    checks = page.locator("#checks")
    assert "Nobody signs the briefing" in checks.inner_text()
    checks.get_by_role("link", name="Add a signatory").click()
    page.get_by_label("Signed by (name)").fill("Jo Official")
    page.get_by_label("Signatory's title").fill("National Official")
    page.get_by_role("button", name="Save briefing").click()
    page.get_by_text("Briefing saved.").wait_for()
    assert "Blocks publishing" not in page.locator("#checks").inner_text()

    page.get_by_role("button", name="Publish version 1").click()
    page.get_by_text("version 1 published").wait_for()
    link = page.get_by_role("link", name="Version 1 (PDF")
    response = page.request.get(base + link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    body = response.body()
    reader = PdfReader(io.BytesIO(body))
    pdf_text = " ".join(p.extract_text() for p in reader.pages)
    assert "Unsafe caseloads in London" in pdf_text and "Jo Official" in pdf_text
    db.session.expire_all()
    stored = db.session.scalar(db.select(Briefing)).latest_published
    assert hashlib.sha256(body).hexdigest() == stored.sha256
    page.set_viewport_size({"width": 320, "height": 800})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert failed == []
    assert [e for e in errors if "404" not in e] == []  # the browser's own favicon probe may 404
