"""The one way a PDF is made: Jinja HTML rendered by WeasyPrint, safely.

* A URL fetcher that serves only the app's own static files, read from disk, and small
  ``data:`` images; it refuses ``file:``, ``http(s):``, redirects and everything else, so
  a briefing or letter can read no local file and reach no server; no file is ever
  embedded as an attachment.
* WeasyPrint runs in a forked child process with an address-space cap and a time limit
  (``kernel.bounded``), so one pathological document cannot hang or exhaust the server.
* PDFs are tagged (``PDF_VARIANT``, PDF/UA-1 by default): language, title, headings, tables
  and the alternative text of charts reach screen readers.
* PDF templates carry their CSS inline (``{% include "…/pdf/x.css" %}``), charts are
  inline SVG: nothing needs fetching in the ordinary case.
"""

from __future__ import annotations

import base64
import binascii
import logging
import mimetypes
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template

from config import Config

from .kernel.bounded import BoundedRunError, run_bounded

# Documents are resolved against this made-up origin; only its /static/ path is served.
PDF_BASE_URL = "https://napo-tracker.invalid/"
MAX_DATA_URL_BYTES = 512 * 1024


class PDFRenderError(RuntimeError):
    """The document could not be rendered within the limits; the message is user-safe."""


def _safe_url_fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeURLFetcher(URLFetcher):
        def __init__(self, static_root: str):
            super().__init__(allowed_protocols=(), allow_redirects=False)
            self.static_root = Path(static_root).resolve()

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return self._data_url(url)
            if url.startswith(PDF_BASE_URL + "static/"):
                return self._static_file(url[len(PDF_BASE_URL + "static/") :])
            raise ValueError(f"refused to fetch {url[:80]!r}: PDFs may use only the app's own static files")

        def _static_file(self, relative: str):
            relative = unquote(urlsplit(relative).path)
            path = (self.static_root / relative).resolve()
            if not path.is_relative_to(self.static_root) or not path.is_file():
                raise ValueError("refused: not one of the app's static files")
            # Typed by name: WeasyPrint takes a stylesheet only when it is served as text/css.
            media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(PDF_BASE_URL + "static/" + relative, path.read_bytes(), {"Content-Type": media})

        def _data_url(self, url: str):
            header, _, payload = url.partition(",")
            media = header[5:].split(";")[0].strip().lower()
            if not media.startswith("image/"):
                raise ValueError("refused: only images may be given as data: URLs")
            if len(payload) > MAX_DATA_URL_BYTES * 4 // 3 + 4:
                raise ValueError("refused: data: image too large")
            try:
                body = (
                    base64.b64decode(payload, validate=False)
                    if header.endswith(";base64")
                    else unquote(payload).encode()
                )
            except (binascii.Error, ValueError) as error:
                raise ValueError("refused: malformed data: URL") from error
            return URLFetcherResponse(url[:64], body, {"Content-Type": media})

    return SafeURLFetcher


def _render(html: str, static_root: str, variant: str | None) -> bytes:
    """Render in the bounded child (``kernel.bounded``): HTML in, PDF bytes out."""
    from weasyprint import HTML

    # Inline SVG charts carry style attributes WeasyPrint's HTML pass warns about, one line
    # per property: keep errors (a refused fetch is one), drop that noise.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    fetcher = _safe_url_fetcher_class()(static_root)
    document = HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=fetcher).render()
    # No attachments: neither <link rel="attachment"> nor <a rel="attachment"> embeds a file.
    document.metadata.attachments = []
    for page in document.pages:
        page.links = [link for link in page.links if link[0] != "attachment"]
    # Tagged PDF (PDF/UA-1 by default): a structure tree with headings, tables, the
    # document's language and title, and alternative text for charts, for screen readers.
    return document.write_pdf(pdf_variant=variant) if variant else document.write_pdf()


def html_to_pdf(
    html: str, *, timeout: float | None = None, memory_mb: int | None = None, static_root: str | None = None
) -> bytes:
    """Render HTML to PDF bytes in a bounded child process; raise PDFRenderError on failure."""
    # Outside the app (a benchmark, a script) the defaults of config.py apply.
    settings: Any = current_app.config if _has_app() else vars(Config)
    timeout = timeout or settings["PDF_RENDER_TIMEOUT"]
    memory_mb = memory_mb or settings["PDF_RENDER_MEMORY_MB"]
    static_root = static_root or (current_app.static_folder if _has_app() else os.getcwd())
    variant = settings["PDF_VARIANT"] or None
    import weasyprint  # noqa: F401  imported once here so every forked child starts warm

    try:
        return run_bounded(_render, html, static_root, variant, timeout=timeout, memory_mb=memory_mb)
    except BoundedRunError as error:
        if error.reason == "timeout":
            raise PDFRenderError(
                f"The document took longer than {timeout:g} seconds to render and was stopped."
            ) from None
        if error.reason == "memory":
            raise PDFRenderError("The document is too large to render within the memory limit.") from None
        if error.reason == "crashed":
            raise PDFRenderError("The document could not be rendered: the renderer stopped unexpectedly.") from None
        raise PDFRenderError(f"The document could not be rendered ({error.reason}).") from None


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    """Render a PDF template with plain values (not live ORM objects) to PDF bytes."""
    return html_to_pdf(render_template(template, **context))


def _has_app() -> bool:
    from flask import has_app_context

    return has_app_context()
