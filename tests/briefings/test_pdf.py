"""The PDF itself, read back with pypdf, and the renderer's defences against hostile input."""

from __future__ import annotations

import http.server
import io
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from napo_tracker.briefings import services as svc
from napo_tracker.briefings.markdown import render_markdown
from napo_tracker.extensions import db
from napo_tracker.pdf import PDFRenderError, html_to_pdf
from tests.factories import make_section


def pdf_text(pdf: bytes) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, [page.extract_text(extraction_mode="layout") for page in reader.pages]


def pdf_dict(value: Any) -> DictionaryObject:
    """A PDF dictionary, followed through an indirect reference."""
    resolved = value.get_object()
    assert isinstance(resolved, DictionaryObject)
    return resolved


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def listening_server() -> Iterator[dict]:
    """A local HTTP server that records every request made to it."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "seen": seen}
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_the_pdf_reads_in_order_with_numbered_questions_and_sources(world, full_briefing):
    version = svc.publish(world.official, full_briefing)
    db.session.commit()
    reader, pages = pdf_text(version.pdf)
    text = flat(" ".join(pages))

    assert len(reader.pages) == version.page_count >= 1
    for number, page in enumerate(pages, start=1):  # the footer of every page
        assert full_briefing.reference in page
        assert f"page {number} of {len(pages)}" in page

    assert text.index("Napo, the trade union") < text.index("Workloads and staffing in probation")
    assert "A briefing from the union for parliamentarians" in text
    headings = [
        "Introduction",
        "Evidence from the regions",
        "Risks",
        "Staff testimonies",
        "What next?",
        "Questions you may wish to ask",
        "Jo Official",
        "Sources",
    ]
    positions = [text.index(h) for h in headings]

    assert positions == sorted(positions), headings
    questions = text[text.index("Questions you may wish to ask") : text.index("Jo Official")]
    assert re.search(r"1\. ?What are the target staffing numbers for each region\?", questions)
    assert re.search(r"2\. ?Will the Minister order a full staffing review\?", questions)
    assert "After twenty years I am leaving because the caseload is unsafe." in text
    assert "(original words)" not in text  # only the moderator's public text leaves moderation
    assert re.search(r"192% \(London, [A-Z][a-z]+ \d{4}\) ?\[1\]", text)
    assert "[2]" in text
    sources = text[text.index("Sources", text.index("Jo Official")) :]
    assert "London PDU workload return" in sources and full_briefing.test_item.reference in sources
    assert "Wales branch survey" in sources

    metadata = reader.metadata
    assert metadata is not None
    assert metadata.title == "Workloads and staffing in probation"
    assert (metadata.author or "").startswith("Napo")
    assert (metadata.subject or "").startswith("A briefing from the union")
    root = pdf_dict(reader.trailer["/Root"])
    assert "/Lang" in root and str(root["/Lang"]) == "en-GB"
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    nested = [i.title for group in reader.outline if isinstance(group, list) for i in group if not isinstance(i, list)]
    assert "Workloads and staffing in probation" in outline
    assert {"Introduction", "Risks", "Questions you may wish to ask", "Sources"} <= set(outline + nested)
    resources = [pdf_dict(p["/Resources"]) for p in reader.pages]
    fonts = {str(pdf_dict(f).get("/BaseFont", "")) for r in resources for f in pdf_dict(r["/Font"]).values()}
    assert all("DejaVu" in f for f in fonts if f)
    # the chart is vector: drawn as paths, not an image
    assert not any(
        r.get("/XObject") and any(pdf_dict(x).get("/Subtype") == "/Image" for x in pdf_dict(r["/XObject"]).values())
        for r in resources
    )


def test_hostile_markdown_prints_as_text_and_fetches_nothing(world, briefing, listening_server):
    url = listening_server["url"]
    hostile = "\n\n".join(
        [
            "<script>alert('x')</script>",
            '<img src="file:///etc/passwd">',
            '<link rel="attachment" href="/etc/passwd">',
            f'<div style="background: url({url}/css)">styled</div>',
            f"<style>body {{ background: url({url}/style) }}</style>",
            f"![chart]({url}/markdown-image)",
            "[passwords](file:///etc/passwd)",
        ]
    )
    make_section(world.official, briefing, kind="free", heading="Hostile", body=hostile)
    pdf = svc.render_briefing_pdf(briefing)
    reader, pages = pdf_text(pdf)
    text = flat(" ".join(pages))
    assert "<script>alert('x')</script>" in text
    assert '<img src="file:///etc/passwd">' in text
    assert '<link rel="attachment" href="/etc/passwd">' in text
    assert f"url({url}/css)" in text
    assert "root:" not in text
    assert listening_server["seen"] == []
    assert reader.attachments == {}


@pytest.fixture
def bare_app():
    """The app without a database: the renderer needs none, so these tests run once, not per backend."""
    from napo_tracker import create_app

    application = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    with application.app_context():
        yield application


def test_the_renderer_refuses_local_files_the_network_and_attachments(bare_app, listening_server):
    url = listening_server["url"]
    html = f"""<html><head>
      <link rel="attachment" href="/static/css/app.css" title="app">
      <link rel="attachment" href="file:///etc/passwd">
      <link rel="stylesheet" href="{url}/sheet.css">
      <style>@import url({url}/import.css); body {{ background: url({url}/background) }}
             @font-face {{ font-family: x; src: url({url}/font.woff) }}</style></head>
      <body><p>Visible text</p><img src="file:///etc/passwd"><img src="{url}/image.png">
      <a rel="attachment" href="/static/css/app.css">attached?</a>
      <svg xmlns="http://www.w3.org/2000/svg"><image href="{url}/svg-image"/></svg>
      <iframe src="file:///etc/passwd"></iframe><object data="{url}/object"></object></body></html>"""
    pdf = html_to_pdf(html)
    reader, pages = pdf_text(pdf)
    assert "Visible text" in pages[0] and "root:" not in pages[0]
    assert listening_server["seen"] == []
    assert reader.attachments == {}
    assert b"/EmbeddedFile" not in pdf


def test_deep_nesting_is_cut_off_and_rendering_is_bounded(bare_app):
    html = str(render_markdown("- " * 400 + "bottom"))
    assert html.count("<ul>") <= 12
    pdf = html_to_pdf(f"<html><body>{html}<p>after the list</p></body></html>")
    assert "after the list" in pdf_text(pdf)[1][0]
    with pytest.raises(PDFRenderError, match="longer than"):
        html_to_pdf("<p>" + "slow " * 50_000 + "</p>", timeout=0.05)


def test_an_official_publishes_a_bilingual_briefing(client, login_as, world, full_briefing):
    """Headings, the title block and dates in Welsh and English; the sections as the official wrote them."""
    login_as(world.official)
    url = f"/briefings/{full_briefing.reference}"
    preview = client.get(f"{url}/preview?doc_lang=both").get_data(as_text=True)
    assert "Cwestiynau yr hoffech efallai eu gofyn / Questions you may wish to ask" in preview
    page = client.get(url).get_data(as_text=True)
    assert 'name="language"' in page and "Cymraeg a Saesneg" not in page  # the choice is offered in English
    from tests.helpers import form_tokens

    sent = {**form_tokens(page), "expected_version": str(full_briefing.version), "language": "both"}
    assert client.post(f"{url}/publish", data=sent).status_code == 302
    db.session.expire_all()
    version = full_briefing.latest_published
    assert version is not None
    text = flat(" ".join(pdf_text(version.pdf)[1]))
    assert "Cwestiynau yr hoffech efallai eu gofyn / Questions you may wish to ask" in text
    assert "Ffynonellau / Sources" in text and "ar gyfer Aelodau Seneddol ac Arglwyddi / for MPs and peers" in text
    months = "Ionawr Chwefror Mawrth Ebrill Mai Mehefin Gorffennaf Awst Medi Hydref Tachwedd Rhagfyr".split()
    assert any(month in text for month in months)
    assert full_briefing.sections[0].body.split()[0] in text  # the official's own words, untouched


def test_a_welsh_draft_pdf_and_an_unknown_language_is_english(client, login_as, world, full_briefing):
    login_as(world.official)
    url = f"/briefings/{full_briefing.reference}/preview.pdf"
    welsh = flat(" ".join(pdf_text(client.get(f"{url}?doc_lang=cy").data)[1]))
    assert "Cwestiynau yr hoffech efallai eu gofyn" in welsh and "Questions you may wish to ask" not in welsh
    english = flat(" ".join(pdf_text(client.get(f"{url}?doc_lang=xx").data)[1]))
    assert "Questions you may wish to ask" in english and "Cwestiynau" not in english


def test_a_quote_is_attributed_in_the_briefing_s_language(app):
    from napo_tracker.briefings.document import FixedText
    from napo_tracker.testimonies.attribution import Attribution

    said = Attribution(grade="PO", region="Wales", service_band="under_2")
    with app.test_request_context("/?lang=cy"):  # the page's language is not the briefing's
        assert FixedText("en").attribution(said) == "Probation officer (PO), Wales, under 2 years in the service"
        assert FixedText("cy").attribution(said) == "Swyddog prawf (PO), Wales, llai na 2 flynedd yn y gwasanaeth"
        both = FixedText("both").attribution(said)
        assert both.startswith("Swyddog prawf (PO)") and both.endswith(
            "/ Probation officer (PO), Wales, under 2 years in the service"
        )
        assert FixedText("cy").attribution(Attribution()) == ""
