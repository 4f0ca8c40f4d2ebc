"""Zip containers (DOCX, ODT): inspected within bounds before anything reads them, then rebuilt clean.

A zip's directory states each member's sizes. A bomb lies about them, or tells the truth and
counts on a reader that inflates whatever it is given. Nothing here takes the directory's word:
every member is inflated in small chunks and its bytes are counted as they come out, and
reading stops at the first cap passed (``UploadLimits``, settings ``UPLOAD_ZIP_*``):

* members: at most ``zip_max_members`` in the whole upload, nested archives included;
* size: at most ``zip_max_uncompressed_bytes`` inflated in all;
* ratio: past its first megabyte, no member may have inflated to more than ``zip_max_ratio``
  times the compressed bytes read for it so far;
* nesting: an archive inside the upload (a chart's spreadsheet inside a DOCX) is inspected the
  same way, on the same budget, at most ``zip_max_nesting`` deep;
* and no member may overlap another, carry a name twice or a path out of the archive, be
  encrypted, or be compressed other than by deflate.

``inspect`` keeps nothing of what it inflates but the names and the first bytes of an ODF
``mimetype``, so its memory is that of one chunk however large the claim. ``clean_package``
reads the archive again through the same counting reader and writes a new one: metadata parts
left out (DOCX ``docProps/core.xml``, ``app.xml``, ``custom.xml``; ODF ``meta.xml``; signatures,
which name their signer and no longer match) along with every reference to them, images
redrawn, nested archives cleaned the same way, every other member copied across in chunks, and
no timestamp, comment or extra field kept from the original.
"""

from __future__ import annotations

import io
import itertools
import posixpath
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from .images import clean_image, image_kind
from .kinds import KINDS, MAX_UPLOAD_BYTES, UploadLimits, UploadRefused

CHUNK = 64 * 1024
# Small members of any ratio are harmless, and very short XML compresses unusually well.
RATIO_GRACE_BYTES = 1024 * 1024
# A member that must be read whole (an XML part to rewrite, an image, a nested archive) may be
# no larger than a file we would accept on its own.
MAX_HELD_BYTES = MAX_UPLOAD_BYTES

_LOCAL_HEADER = b"PK\x03\x04"
_EMPTY_ARCHIVE = b"PK\x05\x06"
_CENTRAL_HEADER = b"PK\x01\x02"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)

UNREADABLE = "This document could not be read: it is damaged, or not a document we accept."
TOO_LARGE = "This document is too large once unpacked ({limit} MB at most). Please send a smaller one or a PDF."
TOO_COMPRESSED = (
    "This document is packed far more tightly than real documents are, which is how files built to "
    "exhaust a server look. It was refused."
)
TOO_MANY = "This document holds more than {limit} files inside it. Please send a smaller one or a PDF."
TOO_NESTED = "This document holds archives inside archives, which we do not accept. Please send a PDF."
HELD_TOO_LARGE = "This document holds a part larger than {limit} MB. Please send a smaller one or a PDF."


def is_zip(data: bytes) -> bool:
    return data[:4] in (_LOCAL_HEADER, _EMPTY_ARCHIVE)


@dataclass(frozen=True)
class Package:
    """What inspection learnt: the member names, and the start of an ODF ``mimetype`` (or b"")."""

    names: frozenset[str]
    mimetype: bytes


def inspect(data: bytes, limits: UploadLimits) -> Package:
    """Inflate every member within the caps, keeping none of it; raise UploadRefused past any cap."""
    return _Archive(data, limits, _Budget(limits), depth=0).inspect()


def clean_package(data: bytes, limits: UploadLimits) -> bytes:
    """The archive rebuilt without its metadata parts (see the module's docstring)."""
    return _Archive(data, limits, _Budget(limits), depth=0).rebuilt()


class _CountingBytes(io.BytesIO):
    """The archive's bytes, counting how many the zip reader has taken (compressed bytes read)."""

    taken = 0

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


class _Budget:
    """What the whole upload may still cost, nested archives included."""

    def __init__(self, limits: UploadLimits) -> None:
        self.limits = limits
        self.members = 0
        self.inflated = 0

    def count_member(self) -> None:
        self.members += 1
        if self.members > self.limits.zip_max_members:
            raise UploadRefused(TOO_MANY.format(limit=self.limits.zip_max_members))

    def spend(self, size: int) -> None:
        self.inflated += size
        if self.inflated > self.limits.zip_max_uncompressed_bytes:
            raise UploadRefused(TOO_LARGE.format(limit=self.limits.zip_max_uncompressed_bytes // (1024 * 1024)))


class _Archive:
    def __init__(self, data: bytes, limits: UploadLimits, budget: _Budget, depth: int) -> None:
        if depth > limits.zip_max_nesting:
            raise UploadRefused(TOO_NESTED)
        self.limits = limits
        self.budget = budget
        self.depth = depth
        # zipfile makes an object per directory entry before anyone can count them: count the
        # entries' signatures first (an upper bound, since they can only be fewer).
        if data.count(_CENTRAL_HEADER) > limits.zip_max_members:
            raise UploadRefused(TOO_MANY.format(limit=limits.zip_max_members))
        self.source = _CountingBytes(data)
        try:
            self.zip = zipfile.ZipFile(self.source)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
            raise UploadRefused(UNREADABLE) from error
        self.members = self.zip.infolist()
        self._check_directory()

    def _check_directory(self) -> None:
        seen: set[str] = set()
        for info in self.members:
            self.budget.count_member()
            if info.filename in seen:
                raise UploadRefused(UNREADABLE)  # two readers could take two different files
            seen.add(info.filename)
            if info.flag_bits & 0x1:
                raise UploadRefused("This document is encrypted. Please send a copy without a password.")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise UploadRefused(UNREADABLE)
            # No document has these; whoever unzips the stored file later must not write outside.
            if info.filename.startswith("/") or ".." in info.filename.split("/"):
                raise UploadRefused(UNREADABLE)
        # Members whose bytes overlap are how one compressed block is counted as many files.
        spans = sorted((info.header_offset, info.header_offset + info.compress_size) for info in self.members)
        for (start, end), (next_start, _) in itertools.pairwise(spans):
            if start == next_start or end > next_start:
                raise UploadRefused(UNREADABLE)

    def inflate(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """A member's bytes in chunks, each counted against the caps as it is inflated."""
        start = self.source.taken
        produced = 0
        try:
            with self.zip.open(info) as member:
                while chunk := member.read(CHUNK):
                    produced += len(chunk)
                    self.budget.spend(len(chunk))
                    taken = self.source.taken - start
                    if produced > RATIO_GRACE_BYTES and produced > self.limits.zip_max_ratio * taken:
                        raise UploadRefused(TOO_COMPRESSED)
                    yield chunk
        except UploadRefused:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError) as e:
            raise UploadRefused(UNREADABLE) from e  # a bad CRC or a truncated stream among them

    def read_whole(self, info: zipfile.ZipInfo, first: bytes = b"", rest: Iterator[bytes] | None = None) -> bytes:
        """A member read whole, refused past ``MAX_HELD_BYTES``."""
        held = bytearray(first)
        for chunk in rest if rest is not None else self.inflate(info):
            held += chunk
            if len(held) > MAX_HELD_BYTES:
                raise UploadRefused(HELD_TOO_LARGE.format(limit=MAX_HELD_BYTES // (1024 * 1024)))
        return bytes(held)

    # ------------------------------------------------------------ inspection

    def inspect(self) -> Package:
        mimetype = b""
        for info in self.members:
            chunks = self.inflate(info)
            first = next(chunks, b"")
            if first.startswith(_LOCAL_HEADER):
                nested = self.read_whole(info, first, chunks)
                _Archive(nested, self.limits, self.budget, self.depth + 1).inspect()
                continue
            if info.filename == "mimetype":
                mimetype = first[:256]
            for _chunk in chunks:
                pass  # counted, not kept
        return Package(frozenset(info.filename for info in self.members), mimetype)

    # ------------------------------------------------------------ rebuilding

    def rebuilt(self) -> bytes:
        names = {info.filename for info in self.members}
        if "mimetype" in names:
            dropped, rewritten = self._odf_plan(names)
        elif "[Content_Types].xml" in names:
            dropped, rewritten = self._opc_plan(names)
        else:
            dropped, rewritten = set(), {}
        # ODF wants its mimetype first and stored, so a reader can tell the kind from the start.
        members = sorted(self.members, key=lambda info: info.filename != "mimetype")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
            for info in members:
                if info.filename in dropped:
                    continue
                fresh = _fresh_info(info)
                if info.is_dir():
                    new.writestr(fresh, b"")
                elif info.filename in rewritten:
                    new.writestr(fresh, rewritten[info.filename])
                else:
                    self._copy(info, fresh, new)
        return out.getvalue()

    def _copy(self, info: zipfile.ZipInfo, fresh: zipfile.ZipInfo, new: zipfile.ZipFile) -> None:
        chunks = self.inflate(info)
        first = next(chunks, b"")
        kind = image_kind(first)
        if kind is not None:
            image = self.read_whole(info, first, chunks)
            what = "An image inside this document"
            new.writestr(fresh, clean_image(image, KINDS[kind], self.limits.image_max_pixels, what))
        elif first.startswith(_LOCAL_HEADER):
            nested = self.read_whole(info, first, chunks)
            new.writestr(fresh, _Archive(nested, self.limits, self.budget, self.depth + 1).rebuilt())
        else:
            with new.open(fresh, "w") as target:
                target.write(first)
                for chunk in chunks:
                    target.write(chunk)

    def _xml(self, name: str) -> etree._ElementTree:
        data = self.read_whole(self.zip.getinfo(name))
        # No DTD: no entities to expand and nothing to fetch; real packages never carry one.
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            raise UploadRefused(UNREADABLE)
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        try:
            return etree.parse(io.BytesIO(data), parser)
        except etree.XMLSyntaxError as error:
            raise UploadRefused(UNREADABLE) from error

    def _opc_plan(self, names: set[str]) -> tuple[set[str], dict[str, bytes]]:
        """DOCX (and any Open Packaging package): the property and signature parts, and what points at them."""
        by_lower = {name.lower(): name for name in names}  # part names ignore case
        gone = {"docprops/core.xml", "docprops/app.xml", "docprops/custom.xml"}
        gone |= {lower for lower in by_lower if lower.startswith("_xmlsignatures/")}
        rewritten: dict[str, bytes] = {}
        if "_rels/.rels" in names:
            tree = self._xml("_rels/.rels")
            for rel in _children(tree, "Relationship"):
                if (rel.get("Type") or "").endswith(_METADATA_RELATIONSHIPS) and rel.get("TargetMode") != "External":
                    rel.getparent().remove(rel)
                    if part := _part_name(rel.get("Target") or ""):
                        gone.add(part.lower())
            rewritten["_rels/.rels"] = _serialised(tree, _OPC_DECLARATION)
        # A removed part's own relationships go with it.
        gone |= {posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels") for part in gone}
        tree = self._xml("[Content_Types].xml")
        for override in _children(tree, "Override"):
            if _part_name(override.get("PartName") or "").lower() in gone:
                override.getparent().remove(override)
        rewritten["[Content_Types].xml"] = _serialised(tree, _OPC_DECLARATION)
        return {by_lower[lower] for lower in gone if lower in by_lower}, rewritten

    def _odf_plan(self, names: set[str]) -> tuple[set[str], dict[str, bytes]]:
        """ODT: ``meta.xml`` (the document's and any embedded object's), signatures, and their manifest entries."""
        dropped = {name for name in names if name == "meta.xml" or name.endswith("/meta.xml")}
        dropped |= {"META-INF/documentsignatures.xml", "META-INF/macrosignatures.xml"} & names
        rewritten: dict[str, bytes] = {}
        if "META-INF/manifest.xml" in names:
            tree = self._xml("META-INF/manifest.xml")
            for entry in _children(tree, "file-entry"):
                if entry.get(f"{{{_MANIFEST_NS}}}full-path") in dropped:
                    entry.getparent().remove(entry)
            rewritten["META-INF/manifest.xml"] = _serialised(tree, _ODF_DECLARATION)
        return dropped, rewritten


_METADATA_RELATIONSHIPS = (
    "/metadata/core-properties",
    "/extended-properties",
    "/extendedProperties",
    "/custom-properties",
    "/customProperties",
    "/digital-signature/origin",
)
_MANIFEST_NS = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
# The declarations Word and LibreOffice write themselves.
_OPC_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_ODF_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _children(tree: etree._ElementTree, local_name: str) -> list[etree._Element]:
    root = tree.getroot()
    return [child for child in root if isinstance(child.tag, str) and etree.QName(child).localname == local_name]


def _part_name(target: str) -> str:
    """A relationship's target or an override's part name as a member name (from the package root)."""
    return posixpath.normpath("/" + target.strip()).lstrip("/")


def _serialised(tree: etree._ElementTree, declaration: bytes) -> bytes:
    return declaration + etree.tostring(tree, xml_declaration=False, encoding="UTF-8")


def _fresh_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A directory entry that keeps only the name: no time, comment, extra field or owner."""
    fresh = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
    stored = info.is_dir() or info.filename == "mimetype"
    fresh.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    fresh.external_attr = (0o40755 << 16) | 0x10 if info.is_dir() else 0o644 << 16
    return fresh
