"""Uploaded files: checked by their content, within bounds, and cleaned of what identifies people.

``check_and_clean(data, filename)`` is the one way in; what it returns is safe to store:

1. **Size**: at most ``MAX_UPLOAD_BYTES``.
2. **Kind, from the bytes** (``sniff``), never from the name: PDF, DOCX, ODT, PNG, JPEG, plain
   text or an e-mail. A DOCX or ODT is a zip, so it is first inspected within the caps of
   ``archives`` (member count, size once inflated, compression ratio, nesting), counting bytes
   as they are inflated: a zip bomb is refused after a few megabytes, whatever it claims. A name
   that claims another kind than the content (an HTML page called ``letter.pdf``) is refused.
3. **Cleaning**, in a child process with its own memory and time caps (``kernel.bounded``), so
   no crafted file can exhaust or stall the server: images redrawn from their pixels (EXIF, GPS
   and text chunks gone; refused above ``UPLOAD_IMAGE_MAX_PIXELS``), PDFs rewritten without Info
   dictionary or XMP (``pdfs``), DOCX and ODT rebuilt without their property parts (``archives``).
   Text and e-mail are kept as they are.
4. **A name** fit to show and to offer as a download (``safe_filename``): no folders, no ``..``,
   no control or text-direction characters, and the extension of what the file really is.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filetype
from flask import current_app, has_app_context

from config import Config

from ..forms import BIDI_CONTROLS
from ..kernel.bounded import BoundedRunError, run_bounded
from . import archives
from .images import clean_image
from .kinds import (
    ACCEPTED_LABEL,
    CLAIMED_BY_EXTENSION,
    KINDS,
    MAX_UPLOAD_BYTES,
    FileKind,
    UploadLimits,
    UploadRefused,
)
from .pdfs import clean_pdf

__all__ = [
    "ACCEPTED_LABEL",
    "KINDS",
    "MAX_UPLOAD_BYTES",
    "CheckedFile",
    "FileKind",
    "UploadLimits",
    "UploadRefused",
    "check_and_clean",
    "current_limits",
    "safe_filename",
    "sniff",
]

_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:[ \t]")
_HTML_SIGNS = (b"<!doctype", b"<html", b"<script", b"<body", b"<iframe", b"<svg", b"<?xml")


@dataclass(frozen=True)
class CheckedFile:
    kind: FileKind
    data: bytes  # cleaned
    filename: str  # safe to show and to offer as a download name


def current_limits() -> UploadLimits:
    """The caps from the app's settings (outside an app, config.py's defaults)."""
    settings: Any = current_app.config if has_app_context() else vars(Config)
    return UploadLimits.from_settings(settings)


def check_and_clean(data: bytes, filename: str | None, limits: UploadLimits | None = None) -> CheckedFile:
    """The file's kind, its cleaned bytes and a safe name; UploadRefused with a message for people otherwise."""
    limits = limits or current_limits()
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    kind = sniff(data, filename or "", limits)
    # Text and e-mail are read by no decoder here and carry no hidden metadata to remove.
    cleaned = data if kind.extension in ("txt", "eml") else _clean_bounded(data, kind, limits)
    return CheckedFile(kind, cleaned, safe_filename(filename, kind))


def _clean_bounded(data: bytes, kind: FileKind, limits: UploadLimits) -> bytes:
    try:
        return run_bounded(
            _clean,
            data,
            kind,
            limits,
            timeout=limits.clean_timeout,
            memory_mb=limits.clean_memory_mb,
            passed_on=(UploadRefused,),
        )
    except BoundedRunError as error:
        if error.reason == "timeout":
            raise UploadRefused(f"This {kind.label} file took too long to check, so it was refused.") from None
        if error.reason == "memory":
            raise UploadRefused(f"This {kind.label} file needs more memory to check than we allow.") from None
        raise UploadRefused(f"This {kind.label} file could not be read.") from None


def _clean(data: bytes, kind: FileKind, limits: UploadLimits) -> bytes:
    """Runs in the bounded child: the file without its metadata."""
    from PIL import Image

    # Pillow's own decompression-bomb guard, set explicitly (this process ends after one file).
    Image.MAX_IMAGE_PIXELS = limits.image_max_pixels
    if kind.extension in ("png", "jpg"):
        return clean_image(data, kind, limits.image_max_pixels)
    if kind.extension == "pdf":
        return clean_pdf(data)
    return archives.clean_package(data, limits)


def _text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _looks_like_html(data: bytes) -> bool:
    head = data[:2048].lstrip().lower()
    return any(sign in head for sign in _HTML_SIGNS)


def _is_email(data: bytes) -> bool:
    """An RFC 822 message: it opens with header lines, including From and a Subject or Date."""
    header_block = data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    lines = [line for line in header_block.split(b"\n") if line and not line[:1].isspace()]
    if not lines or not all(_HEADER_LINE.match(line) for line in lines):
        return False
    names = {line.split(b":", 1)[0].lower() for line in lines}
    return b"from" in names and bool(names & {b"subject", b"date", b"to"})


def _package_kind(package: archives.Package) -> str | None:
    """DOCX and ODT are zip containers; tell them by what is inside."""
    if "mimetype" in package.names:
        return "odt" if package.mimetype.strip() == KINDS["odt"].content_type.encode() else None
    if "[Content_Types].xml" in package.names and "word/document.xml" in package.names:
        return "docx"
    return None


def sniff(data: bytes, filename: str = "", limits: UploadLimits | None = None) -> FileKind:
    """What the bytes are, from the bytes; refuse what we do not accept.

    A zip is inspected within the caps before anything else reads it. When the name claims
    one accepted kind and the content is another, the file is refused too: a text file called
    ``.pdf`` is a mistake or a trick.
    """
    if not data:
        raise UploadRefused("The file is empty.")
    kind: str | None = None
    if archives.is_zip(data):
        kind = _package_kind(archives.inspect(data, limits or current_limits()))
    elif (guess := filetype.guess(data)) is not None:
        kind = {"pdf": "pdf", "png": "png", "jpg": "jpg"}.get(guess.extension)
    elif _text(data) is not None:
        if _looks_like_html(data):
            raise UploadRefused(
                f"This file is a web page (HTML), which we do not accept. Please upload a {ACCEPTED_LABEL} file."
            )
        kind = "eml" if _is_email(data) else "txt"
    if kind is None:
        raise UploadRefused(
            f"We could not recognise this file as a {ACCEPTED_LABEL} file. Only those kinds can be attached."
        )
    claimed = CLAIMED_BY_EXTENSION.get(Path(filename).suffix.lower().lstrip("."))
    if claimed and claimed != kind and not {claimed, kind} <= {"txt", "eml"}:
        raise UploadRefused(
            f"The file is named as a {KINDS[claimed].label} file, but its content is "
            f"{KINDS[kind].label}. Please check you chose the right file."
        )
    return KINDS[kind]


def safe_filename(name: str | None, kind: FileKind) -> str:
    """A display and download name: the last path part, printable, with the true extension."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if ch not in BIDI_CONTROLS and unicodedata.category(ch)[0] != "C")
    stem = Path(name).stem if Path(name).suffix.lower().lstrip(".") in CLAIMED_BY_EXTENSION else name
    stem = stem.strip(" .")
    stem = re.sub(r"\.{2,}", ".", stem)[:150] or "attachment"
    return f"{stem}.{kind.extension}"
