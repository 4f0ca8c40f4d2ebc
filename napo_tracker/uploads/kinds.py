"""The kinds of file we accept, the refusal every check raises, and the caps every check obeys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class UploadRefused(ValueError):
    """The file is not one we accept; the message is shown to the person who sent it."""


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


@dataclass(frozen=True)
class UploadLimits:
    """The caps on what checking and cleaning one upload may cost (settings ``UPLOAD_*``, config.py)."""

    zip_max_members: int
    zip_max_uncompressed_bytes: int
    zip_max_ratio: int
    zip_max_nesting: int
    image_max_pixels: int
    clean_timeout: float
    clean_memory_mb: int

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> UploadLimits:
        return cls(
            zip_max_members=int(settings["UPLOAD_ZIP_MAX_MEMBERS"]),
            zip_max_uncompressed_bytes=int(settings["UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES"]),
            zip_max_ratio=int(settings["UPLOAD_ZIP_MAX_RATIO"]),
            zip_max_nesting=int(settings["UPLOAD_ZIP_MAX_NESTING"]),
            image_max_pixels=int(settings["UPLOAD_IMAGE_MAX_PIXELS"]),
            clean_timeout=float(settings["UPLOAD_CLEAN_TIMEOUT"]),
            clean_memory_mb=int(settings["UPLOAD_CLEAN_MEMORY_MB"]),
        )
