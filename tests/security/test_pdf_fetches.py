"""No PDF reads a local file or reaches the network, through the renderer itself or through any
route that renders one; and the renderer's own static files stay inside the static folder.

A real socket listens on 127.0.0.1 and records every connection: no render may make one.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from napo_tracker.pdf import PDF_BASE_URL, _safe_url_fetcher_class, html_to_pdf

from ..helpers import submit
from .poison import crawl, pdf_text, poison

PASSWD_MARK = "root:x:0:0"


class Listener:
    """A TCP server on 127.0.0.1 that answers every connection with a small CSS file and counts it."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.hits: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.hits.append(conn.recv(2048))
                    body = b'p::after{content:"FETCHED-FROM-NETWORK"}'
                    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/css\r\n\r\n" + body)
                except OSError:
                    pass

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.close()
        self.thread.join(5)


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def _vectors(net: str, secret: Path) -> list[str]:
    return [
        f'<img src="{net}/img.png">',
        f'<link rel="stylesheet" href="{net}/style.css">',
        f"<style>@import url({net}/import.css);</style>",
        f"<style>p {{ background: url({net}/bg.png) }}</style>",
        f"<style>@font-face {{ font-family: X; src: url({net}/font.woff) }} p {{ font-family: X }}</style>",
        f'<object data="{net}/object"></object><iframe src="{net}/frame"></iframe><embed src="{net}/embed">',
        f'<svg><image href="{net}/svg.png" width="10" height="10"/></svg>',
        f'<base href="{net}/"><img src="relative.png">',
        f'<link rel="attachment" href="{net}/attach"><a rel="attachment" href="{net}/a">a</a>',
        '<img src="file:///etc/passwd"><link rel="stylesheet" href="file:///etc/passwd">',
        f'<link rel="stylesheet" href="file://{secret}"><link rel="attachment" href="file://{secret}">',
        f"<style>@import url(file://{secret});</style>",
        '<link rel="stylesheet" href="/static/../../../../../../etc/passwd">',
        f'<link rel="stylesheet" href="{PDF_BASE_URL}static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd">',
    ]


def test_the_renderer_reaches_no_file_and_no_server(listener, tmp_path):
    secret = tmp_path / "secret.css"
    secret.write_text('p::after{content:"LOCAL-SECRET-READ"}')
    for vector in _vectors(listener.url, secret):
        pdf = html_to_pdf(f"<html><body>{vector}<p>visible</p></body></html>")
        text = pdf_text(pdf)
        assert "visible" in text, vector
        for leaked in ("LOCAL-SECRET-READ", "FETCHED-FROM-NETWORK", PASSWD_MARK):
            assert leaked not in text and leaked.encode() not in pdf, vector
    assert listener.hits == []


def test_no_route_that_renders_a_pdf_reaches_a_file_or_a_server(app, scene, visitor, listener):
    net = listener.url
    # Every text column carries fetch attempts; the briefing's Markdown adds its own kinds.
    poison(lambda n, column, room: f'<img src="{net}/{n}">'[:room])
    from napo_tracker.briefings.models import BriefingSection
    from napo_tracker.extensions import db

    section = db.session.get(BriefingSection, scene.section_id)
    assert section is not None
    section.body = (
        f"![chart]({net}/md.png) [file](file:///etc/passwd) <{net}/autolink>\n\n"
        f'<link rel="attachment" href="file:///etc/passwd"> [x]: {net}/ref'
    )
    db.session.commit()
    rendered = 0
    for answer in crawl(visitor, scene, roles=("rep_a", "official")):
        if answer.mimetype == "application/pdf":
            rendered += 1
            assert answer.status == 200
            assert PASSWD_MARK not in answer.text
    visitor.become("official")
    page = f"/briefings/{scene.briefing}"
    version = re.search(r'name="expected_version"[^>]*value="(\d+)"', visitor.client.get(page).text)
    assert version is not None
    published = submit(visitor.client, f"{page}/publish", {"expected_version": version.group(1)}, form_url=page)
    assert published.status_code == 302, published.text
    rendered += 1
    assert rendered >= 3
    assert listener.hits == [], listener.hits


# ---------------------------------------------------------------------------- the static folder


@pytest.fixture
def static_root(tmp_path) -> Path:
    """A static folder with one stylesheet, and a secret stylesheet beside (outside) it."""
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "ok.css").write_text('p::after{content:"FROM-STATIC"}')
    (tmp_path / "secret.css").write_text('p::after{content:"OUTSIDE-STATIC"}')
    os.symlink(tmp_path / "secret.css", root / "css" / "link.css")
    return root


ESCAPES = [
    "../secret.css",
    "css/../../secret.css",
    "%2e%2e/secret.css",
    "css/%2e%2e/%2e%2e/secret.css",
    "..%2fsecret.css",
    "css%2f..%2f..%2fsecret.css",
    "css/link.css",  # a link inside the folder to a file outside it
    "css",  # a folder, not a file
    "css/missing.css",
]


def test_the_fetcher_serves_a_file_of_the_static_folder(static_root):
    fetcher = _safe_url_fetcher_class()(str(static_root))
    response = fetcher.fetch(PDF_BASE_URL + "static/css/ok.css")
    assert b"FROM-STATIC" in response.read()
    pdf = html_to_pdf('<link rel="stylesheet" href="/static/css/ok.css"><p>x</p>', static_root=str(static_root))
    assert "FROM-STATIC" in pdf_text(pdf)


@pytest.mark.parametrize("path", ESCAPES)
def test_the_fetcher_reads_nothing_outside_the_static_folder(static_root, path):
    fetcher = _safe_url_fetcher_class()(str(static_root))
    with pytest.raises(ValueError, match=r"^refused"):
        fetcher.fetch(PDF_BASE_URL + "static/" + path)
    # …and through a render, where a refusal leaves the document without the sheet.
    pdf = html_to_pdf(
        f'<link rel="stylesheet" href="{PDF_BASE_URL}static/{path}"><p>x</p>', static_root=str(static_root)
    )
    assert "OUTSIDE-STATIC" not in pdf_text(pdf)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1/",
        "https://napo-tracker.invalid/other/app.css",
        "https://napo-tracker.invalid.evil.example/static/css/ok.css",
        "ftp://example.org/x",
        "data:text/css,p{color:red}",
    ],
)
def test_the_fetcher_refuses_every_other_address(static_root, url):
    with pytest.raises(ValueError, match=r"^refused"):
        _safe_url_fetcher_class()(str(static_root)).fetch(url)


# ---------------------------------------------------------------------------- what the fetcher hands WeasyPrint

PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"))


def _fetch(static_root: Path, url: str):
    return _safe_url_fetcher_class()(str(static_root)).fetch(url)


def test_a_static_file_comes_with_its_address_and_media_type(static_root):
    response = _fetch(static_root, PDF_BASE_URL + "static/css/ok.css")
    assert response.url == PDF_BASE_URL + "static/css/ok.css"
    assert response.headers["Content-Type"] == "text/css"
    (static_root / "css" / "odd.unknownext").write_bytes(b"x")
    assert _fetch(static_root, PDF_BASE_URL + "static/css/odd.unknownext").headers["Content-Type"] == (
        "application/octet-stream"
    )


@pytest.mark.parametrize(
    "url, media, body",
    [
        ("data:image/png;base64," + PNG.decode(), "image/png", base64.b64decode(PNG)),
        ("data:IMAGE/PNG;base64," + PNG.decode(), "image/png", base64.b64decode(PNG)),
        ("data:image/svg+xml,%3Csvg%3Ea,b%3C/svg%3E", "image/svg+xml", b"<svg>a,b</svg>"),
        ("data:image/svg+xml;charset=utf-8,%3Csvg/%3E", "image/svg+xml", b"<svg/>"),
    ],
)
def test_a_small_data_image_is_handed_over_as_it_is(static_root, url, media, body):
    response = _fetch(static_root, url)
    assert response.headers["Content-Type"] == media and response.url == url[:64]
    assert response.read() == body


def test_a_data_image_up_to_the_size_limit_is_taken_and_not_one_byte_more(static_root):
    from napo_tracker.pdf import MAX_DATA_URL_BYTES

    limit = MAX_DATA_URL_BYTES * 4 // 3 + 4
    whole = limit - limit % 4  # whole base64 quartets, made up to the limit with line breaks (ignored)
    _fetch(static_root, "data:image/png;base64," + "A" * whole + "\n" * (limit - whole))
    with pytest.raises(ValueError, match=r"^refused: data: image too large$"):
        _fetch(static_root, "data:image/png;base64," + "A" * (limit + 1))


@pytest.mark.parametrize(
    "url, reason",
    [
        ("data:text/css,p{color:red}", "^refused: only images may be given as data: URLs$"),
        ("data:text/html;base64,PGI+", "^refused: only images may be given as data: URLs$"),
        ("data:image/png;base64,abc", "^refused: malformed data: URL$"),
    ],
)
def test_other_data_addresses_are_refused_saying_why(static_root, url, reason):
    with pytest.raises(ValueError, match=reason):
        _fetch(static_root, url)


def test_a_refusal_names_the_address_briefly(static_root):
    url = "https://evil.example/" + "x" * 200
    with pytest.raises(ValueError) as refused:
        _fetch(static_root, url)
    message = str(refused.value)
    assert message == f"refused to fetch {url[:80]!r}: PDFs may use only the app's own static files"
    with pytest.raises(ValueError, match=r"^refused: not one of the app's static files$"):
        _fetch(static_root, PDF_BASE_URL + "static/../secret.css")


def test_no_file_is_ever_embedded_in_a_pdf_not_even_a_static_one(static_root):
    from io import BytesIO

    from pypdf import PdfReader

    html = (
        '<link rel="attachment" href="/static/css/ok.css" title="sheet">'
        '<p><a rel="attachment" href="/static/css/ok.css">the sheet</a></p>'
    )
    pdf = html_to_pdf(html, static_root=str(static_root))
    assert PdfReader(BytesIO(pdf)).attachments == {}
    assert b"/EmbeddedFile" not in pdf and b"FROM-STATIC" not in pdf
