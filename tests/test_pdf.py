"""The one PDF renderer: bounded in time and memory, and blind to files and the network."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from napo_tracker.pdf import PDFRenderError, html_to_pdf


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_renders_html_to_a_real_pdf():
    pdf = html_to_pdf("<html lang='en'><title>T</title><body><h1>Unallocated cases: 650</h1></body></html>")
    assert pdf.startswith(b"%PDF-")
    assert "Unallocated cases: 650" in _text(pdf)


def test_the_memory_cap_is_added_to_what_the_server_already_uses():
    # A large server process must not leave the renderer with nothing: ballast of ~600 MB
    # in the parent, and a 300 MB allowance still renders a simple page.
    ballast = bytearray(600 * 1024 * 1024)
    try:
        assert html_to_pdf("<p>still fine</p>", memory_mb=300).startswith(b"%PDF-")
    finally:
        del ballast


def test_a_document_beyond_the_memory_cap_is_refused_cleanly():
    rows = "".join(f"<tr><td>{n}</td><td>{'x' * 50}</td></tr>" for n in range(20_000))
    with pytest.raises(PDFRenderError, match="memory limit"):
        html_to_pdf(f"<table>{rows}</table>", memory_mb=40, timeout=120)


def test_a_render_that_takes_too_long_is_stopped():
    rows = "".join(f"<p>{n}</p>" for n in range(200_000))
    with pytest.raises(PDFRenderError, match="longer than"):
        html_to_pdf(rows, timeout=0.5)


def test_local_files_are_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    html = (
        f"<link rel='stylesheet' href='file://{secret}'><link rel='attachment' href='file://{secret}'>"
        f"<img src='file://{secret}'><p>visible</p>"
    )
    pdf = html_to_pdf(html)
    assert b"TOP-SECRET-CONTENT" not in pdf
    assert "visible" in _text(pdf)


def test_pdfs_are_tagged_for_screen_readers_unless_the_setting_is_empty(app):
    """PDF/UA-1 by default (NAPO_PDF_VARIANT): language, title, a structure tree with the
    headings and tables, and alternative text for pictures; notice letters and briefings alike."""
    html = (
        '<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>A letter</title></head><body>'
        "<h1>Notice</h1><p>Text.</p><table><thead><tr><th>Case</th></tr></thead><tbody><tr><td>1</td></tr>"
        "</tbody></table></body></html>"
    )
    with app.app_context():
        reader = PdfReader(io.BytesIO(html_to_pdf(html)))
        root: Any = reader.trailer["/Root"]
        assert root["/Lang"] == "en-GB" and root["/MarkInfo"]["/Marked"]
        assert reader.metadata is not None and reader.metadata.title == "A letter"
        tree = str(root["/StructTreeRoot"].get_object())
        assert "/K" in tree
        app.config["PDF_VARIANT"] = ""
        plain: Any = PdfReader(io.BytesIO(html_to_pdf(html))).trailer["/Root"]
        assert "/StructTreeRoot" not in plain
