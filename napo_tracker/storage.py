"""Uploaded files: kept outside the web root under random names, checked by content.

* ``sniff(data, filename)`` decides what a file is from its bytes, never its name, and
  refuses anything that is not one of the accepted kinds (an HTML page called
  ``letter.pdf`` is refused).
* ``clean_image`` re-draws PNG and JPEG images from their pixels, so EXIF (GPS
  position, camera, time) and text chunks are gone.
* ``save`` encrypts bytes with the data key (``crypto.py``), writes them under a random
  name in ``INSTANCE_FILES_DIR`` and returns the name, and the size and SHA-256 of the
  plain bytes; ``read`` decrypts them again. ``path_for`` turns a stored name back into a
  path and refuses any name that would lead outside the store. A column that holds a
  stored name is marked ``info=STORED_FILE``, so ``keys rotate`` finds every file.
* ``safe_filename`` makes a user's file name fit to show and to offer as a download
  name: no folders, no ``..``, no control or text-direction characters.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import secrets
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filetype
from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from . import crypto
from .forms import BIDI_CONTROLS
from .kernel import transaction

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
_STORED_NAME = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
# The ``info`` of a column holding a stored file's name: ``keys rotate`` re-encrypts what it names.
STORED_FILE = {"napo_stored_file": True}


def names_stored_file(column: Any) -> bool:
    return bool(column.info.get("napo_stored_file"))


class UploadRefused(ValueError):
    """The file is not one we accept; the message is shown to the user."""


@dataclass(frozen=True)
class FileKind:
    extension: str
    content_type: str
    label: str


KINDS: dict[str, FileKind] = {
    "pdf": FileKind("pdf", "application/pdf", "PDF"),
    "docx": FileKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word (DOCX)"),
    "odt": FileKind("odt", "application/vnd.oasis.opendocument.text", "OpenDocument text (ODT)"),
    "png": FileKind("png", "image/png", "PNG image"),
    "jpg": FileKind("jpg", "image/jpeg", "JPEG image"),
    "txt": FileKind("txt", "text/plain", "plain text"),
    "eml": FileKind("eml", "message/rfc822", "e-mail (EML)"),
}
# Names people give files, and the kind each name claims.
CLAIMED_BY_EXTENSION = {
    "pdf": "pdf",
    "docx": "docx",
    "odt": "odt",
    "png": "png",
    "jpg": "jpg",
    "jpeg": "jpg",
    "txt": "txt",
    "eml": "eml",
}
ACCEPTED_LABEL = "PDF, DOCX, ODT, PNG, JPEG, TXT or EML"

_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:[ \t]")
_HTML_SIGNS = (b"<!doctype", b"<html", b"<script", b"<body", b"<iframe", b"<svg", b"<?xml")


def _zip_kind(data: bytes) -> str | None:
    """DOCX and ODT are zip containers; tell them by what is inside."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                if archive.read("mimetype").strip() == KINDS["odt"].content_type.encode():
                    return "odt"
                return None
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                return "docx"
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return None
    return None


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


def sniff(data: bytes, filename: str = "") -> FileKind:
    """What the bytes are, from the bytes; refuse what we do not accept.

    When the name claims one accepted kind and the content is another, the file is
    refused too: a text file called ``.pdf`` is a mistake or a trick.
    """
    if not data:
        raise UploadRefused("The file is empty.")
    kind: str | None = None
    guess = filetype.guess(data)
    if guess is not None:
        if guess.extension == "pdf":
            kind = "pdf"
        elif guess.extension == "png":
            kind = "png"
        elif guess.extension == "jpg":
            kind = "jpg"
        elif guess.mime in ("application/zip", KINDS["docx"].content_type, KINDS["odt"].content_type):
            kind = _zip_kind(data)
    elif data.startswith(b"PK\x03\x04"):
        kind = _zip_kind(data)
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


def clean_image(data: bytes, kind: FileKind) -> bytes:
    """Re-draw an image from its pixels alone: EXIF, GPS and text chunks do not survive."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)  # keep the way the photo was held
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as error:
        raise UploadRefused("This image could not be read. Please upload a PNG or JPEG image.") from error
    mode = upright.mode
    if kind.extension == "jpg" and mode not in ("RGB", "L", "CMYK"):
        mode = "RGB"
    elif kind.extension == "png" and mode not in ("RGB", "RGBA", "L", "LA", "P", "1", "I", "I;16"):
        mode = "RGBA"
    pixels = upright.convert(mode) if mode != upright.mode else upright
    bare = Image.new(pixels.mode, pixels.size)
    palette = pixels.getpalette() if pixels.mode == "P" else None
    if palette is not None:
        bare.putpalette(palette)
    bare.paste(pixels)
    out = io.BytesIO()
    if kind.extension == "jpg":
        bare.save(out, format="JPEG", quality=92)
    else:
        bare.save(out, format="PNG", optimize=True)
    return out.getvalue()


def safe_filename(name: str | None, kind: FileKind) -> str:
    """A display and download name: the last path part, printable, with the true extension."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if ch not in BIDI_CONTROLS and unicodedata.category(ch)[0] != "C")
    stem = Path(name).stem if Path(name).suffix.lower().lstrip(".") in CLAIMED_BY_EXTENSION else name
    stem = stem.strip(" .")
    stem = re.sub(r"\.{2,}", ".", stem)[:150] or "attachment"
    return f"{stem}.{kind.extension}"


def files_dir() -> Path:
    path = Path(current_app.config["INSTANCE_FILES_DIR"]).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_for(stored_name: str) -> Path:
    """The path of a stored file; a name that is not one of ours is refused."""
    if not _STORED_NAME.match(stored_name or ""):
        raise ValueError("not a stored file name")
    root = files_dir()
    path = (root / stored_name).resolve()
    if path.parent != root:
        raise ValueError("stored file outside the store")
    return path


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    size_bytes: int
    sha256: str


def save(data: bytes) -> StoredFile:
    """Encrypt bytes and write them under a fresh random name (never overwriting); return
    the name, and the size and SHA-256 of the plain bytes.

    The file belongs to the current transaction: if it rolls back, the file is removed, so
    a record that was never saved leaves no orphan behind.
    """
    stored_name = _write_new(crypto.encrypt(data))
    return StoredFile(stored_name, len(data), hashlib.sha256(data).hexdigest())


def read(stored_name: str) -> bytes:
    """The plain bytes of a stored file. A name not of ours raises ``ValueError``, a missing
    file ``FileNotFoundError``, bytes no key can read ``crypto.UnreadableData``."""
    return crypto.decrypt(path_for(stored_name).read_bytes())


def reencrypt(stored_name: str) -> str:
    """Write a stored file again under the newest key, under a new name, and return that name.

    The caller points its record at the new name in the same transaction: the old file goes
    once that commits, the new one if it rolls back, so either name always holds readable bytes.
    """
    new_name = _write_new(crypto.reencrypt(path_for(stored_name).read_bytes()))
    delete_after_commit(stored_name)
    return new_name


def _write_new(content: bytes) -> str:
    stored_name = secrets.token_urlsafe(32)
    path = path_for(stored_name)
    with open(path, "xb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    transaction.on_rollback(lambda: delete(stored_name))
    return stored_name


def delete(stored_name: str) -> None:
    """Remove a stored file now (a missing one is not an error)."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        path_for(stored_name).unlink()


def delete_after_commit(stored_name: str) -> None:
    """Remove a stored file once the deletion of its record is committed, and only then."""
    transaction.after_commit(lambda: delete(stored_name))
