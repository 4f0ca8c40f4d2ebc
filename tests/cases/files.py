"""Files to upload, made in memory: one of each accepted kind, and some that must be refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from flask import Flask
from PIL import Image
from PIL.PngImagePlugin import PngInfo


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def odt_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0131] = "SecretCam 9000"  # Software
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 12.5)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngInfo()
    info.add_text("Author", "Private Person")
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 90, 200)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


EML = (
    b"From: Team Manager <manager@example.org>\r\nTo: rep@example.org\r\nSubject: Allocation\r\n"
    b"Date: Mon, 2 Nov 2026 09:00:00 +0000\r\n\r\nTen more cases this week.\r\n"
)
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def stored_files(app: Flask) -> list[str]:
    """The names of the files in the store, whatever record they belong to (or none)."""
    root = Path(app.config["INSTANCE_FILES_DIR"])
    return sorted(p.name for p in root.iterdir()) if root.exists() else []
