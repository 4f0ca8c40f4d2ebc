"""No PDF reads a local file or reaches the network, through the renderer itself or through any
route that renders one; and the renderer's own static files stay inside the static folder.

A real socket listens on 127.0.0.1 and records every connection: no render may make one.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from napo_tracker.pdf import PDF_BASE_URL, _safe_url_fetcher_class, html_to_pdf

from .poison import crawl, pdf_text, poison
from .probe import send

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
    published = send(visitor.client, "POST", f"/briefings/{scene.briefing}/publish", visitor.token)
    assert published.status_code == 302
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
    with pytest.raises(ValueError, match="refused"):
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
    with pytest.raises(ValueError, match="refused"):
        _safe_url_fetcher_class()(str(static_root)).fetch(url)
