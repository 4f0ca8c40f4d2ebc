"""The one way a PDF is made: Jinja HTML rendered by WeasyPrint, safely.

* A URL fetcher that serves only the app's own static files, read from disk, and small
  ``data:`` images; it refuses ``file:``, ``http(s):``, redirects and everything else, so
  a briefing or letter can read no local file and reach no server; no file is ever
  embedded as an attachment.
* WeasyPrint runs in a forked child process with an address-space cap and a time limit,
  so one pathological document cannot hang or exhaust the server.
* PDF templates carry their CSS inline (``{% include "…/pdf/x.css" %}``), charts are
  inline SVG: nothing needs fetching in the ordinary case.
"""

from __future__ import annotations

import base64
import binascii
import gc
import logging
import mimetypes
import multiprocessing
import os
import resource
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template

from config import Config

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


def _address_space_in_use() -> int:
    """This process's virtual memory size in bytes (0 where /proc is not available)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _render_in_child(conn, html: str, static_root: str, memory_mb: int) -> None:
    try:
        # The forked child starts with the server's whole address space; the cap is what
        # rendering may add on top of that, however large the server has grown.
        limit = _address_space_in_use() + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
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
        pdf = document.write_pdf()
        conn.send_bytes(b"OK" + pdf)
    except MemoryError:
        conn.send_bytes(b"ERmemory")
    except BaseException as error:  # the parent turns any failure into one message
        conn.send_bytes(b"ER" + type(error).__name__.encode())
    finally:
        conn.close()


def html_to_pdf(
    html: str, *, timeout: float | None = None, memory_mb: int | None = None, static_root: str | None = None
) -> bytes:
    """Render HTML to PDF bytes in a bounded child process; raise PDFRenderError on failure."""
    # Outside the app (a benchmark, a script) the defaults of config.py apply.
    settings: Any = current_app.config if _has_app() else vars(Config)
    timeout = timeout or settings["PDF_RENDER_TIMEOUT"]
    memory_mb = memory_mb or settings["PDF_RENDER_MEMORY_MB"]
    static_root = static_root or (current_app.static_folder if _has_app() else os.getcwd())
    import weasyprint  # noqa: F401  imported once here so every forked child starts warm

    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_render_in_child, args=(sender, html, static_root, memory_mb), daemon=True)
    # Frozen objects are skipped by the child's garbage collector: it does not walk (and copy)
    # the whole inherited heap of the server process on every collection.
    gc.freeze()
    try:
        child.start()
    finally:
        gc.unfreeze()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise PDFRenderError(f"The document took longer than {timeout:g} seconds to render and was stopped.")
        try:
            message = receiver.recv_bytes()
        except EOFError as error:
            raise PDFRenderError("The document could not be rendered: the renderer stopped unexpectedly.") from error
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(5)
    if message.startswith(b"OK"):
        return message[2:]
    reason = message[2:].decode(errors="replace")
    if reason == "memory":
        raise PDFRenderError("The document is too large to render within the memory limit.")
    raise PDFRenderError(f"The document could not be rendered ({reason}).")


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    """Render a PDF template with plain values (not live ORM objects) to PDF bytes."""
    return html_to_pdf(render_template(template, **context))


def _has_app() -> bool:
    from flask import has_app_context

    return has_app_context()
