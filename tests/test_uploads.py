"""Uploads: kinds told by content, zip caps counted as bytes are inflated, metadata removed.

Every file here is built by the test itself (see tests/files.py). The attacks through the
service and the upload page, and the memory measurement, are in tests/test_upload_hardening.py.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile

import pikepdf
import pytest
from lxml import etree
from PIL import Image

from napo_tracker import uploads
from napo_tracker.uploads import archives, clean_image
from tests import files
from tests.files import AUTHOR, EML, HTML, PAGE_TEXT

LIMITS = uploads.current_limits()  # config.py's defaults
MB = 1024 * 1024


def unpacked(data: bytes) -> dict[str, bytes]:
    """Every member of an archive, and of the archives inside it, by path."""
    members: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            content = archive.read(name)
            members[name] = content
            if content.startswith(b"PK\x03\x04"):
                members |= {f"{name}!{inner}": value for inner, value in unpacked(content).items()}
    return members


def assert_nothing_names_the_author(data: bytes) -> None:
    assert AUTHOR.encode() not in data
    for name, content in unpacked(data).items():
        assert AUTHOR.encode() not in content, name


# ---------------------------------------------------------------- kinds, by content


@pytest.mark.parametrize(
    "data, name, extension",
    [
        (files.pdf_bytes(), "letter.pdf", "pdf"),
        (files.docx_bytes(), "letter.docx", "docx"),
        (files.odt_bytes(), "letter.odt", "odt"),
        (files.jpeg_with_gps(), "wmt.jpeg", "jpg"),
        (files.png_with_text(), "wmt.png", "png"),
        (EML, "manager.eml", "eml"),
        (b"Notes from the team meeting.\n", "notes.txt", "txt"),
        (files.pdf_bytes(), "no-extension", "pdf"),
    ],
)
def test_accepted_kinds_are_known_by_content(data, name, extension):
    assert uploads.sniff(data, name, LIMITS).extension == extension


@pytest.mark.parametrize(
    "data, name, message",
    [
        (HTML, "letter.pdf", "web page"),
        (b"", "empty.txt", "empty"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200), "tool.pdf", "could not recognise"),
        (b"plain words", "letter.pdf", "named as a PDF"),
        (files.pdf_bytes(), "photo.png", "named as a PNG"),
        (b"PK\x03\x04" + bytes(40), "letter.docx", "could not be read"),
        (b"GIF89a" + bytes(30), "x.gif", "could not recognise"),
        (files.xlsx_bytes(author="x"), "sheet.xlsx", "could not recognise"),  # a zip, but no kind we take
    ],
)
def test_other_content_is_refused_whatever_its_name(data, name, message):
    with pytest.raises(uploads.UploadRefused, match=message):
        uploads.sniff(data, name, LIMITS)


def test_the_size_cap_holds_on_both_sides():
    at_the_cap = b"a" * uploads.MAX_UPLOAD_BYTES
    assert uploads.check_and_clean(at_the_cap, "notes.txt", LIMITS).data == at_the_cap
    with pytest.raises(uploads.UploadRefused, match="larger than 10 MB"):
        uploads.check_and_clean(at_the_cap + b"a", "notes.txt", LIMITS)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\letter.pdf", "letter.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe.pdf"),
        ("report\u202egpj.pdf", "reportgpj.pdf"),
        ("..", "attachment.pdf"),
        ("", "attachment.pdf"),
        ("a\x00b\x07c.pdf", "abc.pdf"),
        ("letter.pdf.exe", "letter.pdf.exe.pdf"),
        ("x" * 400 + ".pdf", "x" * 150 + ".pdf"),
    ],
)
def test_file_names_are_made_safe(name, expected):
    assert uploads.safe_filename(name, uploads.KINDS["pdf"]) == expected


# ---------------------------------------------------------------- images


def test_images_lose_exif_gps_and_text_chunks():
    jpeg = clean_image(files.jpeg_with_gps(), uploads.KINDS["jpg"], LIMITS.image_max_pixels)
    assert b"SecretCam" not in jpeg and b"Exif" not in jpeg
    with Image.open(io.BytesIO(jpeg)) as image:
        assert dict(image.getexif()) == {} and image.size == (40, 30)
    png = clean_image(files.png_with_text(), uploads.KINDS["png"], LIMITS.image_max_pixels)
    assert b"Private Person" not in png
    with Image.open(io.BytesIO(png)) as image:
        assert "Author" not in image.info


def test_a_broken_image_is_refused():
    with pytest.raises(uploads.UploadRefused, match="could not be read"):
        clean_image(b"\x89PNG\r\n\x1a\n" + bytes(30), uploads.KINDS["png"], LIMITS.image_max_pixels)


def test_the_pixel_cap_holds_on_both_sides_before_decoding():
    png = files.png_of(200, 100)
    assert clean_image(png, uploads.KINDS["png"], max_pixels=20_000).startswith(b"\x89PNG")
    with pytest.raises(uploads.UploadRefused, match="200 × 100 pixels"):
        clean_image(png, uploads.KINDS["png"], max_pixels=19_999)


def test_a_pixel_bomb_is_refused_through_the_whole_check():
    # 10,000 × 10,000 pixels: a few kilobytes on disk, 100 million pixels once decoded.
    bomb = files.png_of(10_000, 10_000)
    assert len(bomb) < 100_000
    with pytest.raises(uploads.UploadRefused, match="image is too large"):
        uploads.check_and_clean(bomb, "wmt.png", LIMITS)


def test_what_follows_an_image_does_not_survive_its_redrawing():
    polyglot = files.png_with_text() + b"<html><script>alert(1)</script></html>"
    cleaned = uploads.check_and_clean(polyglot, "wmt.png", LIMITS)
    assert b"<script>" not in cleaned.data and cleaned.kind.extension == "png"


# ---------------------------------------------------------------- PDF


def test_a_pdf_loses_its_info_dictionary_and_xmp_and_keeps_its_words():
    original = files.pdf_bytes(author=AUTHOR)
    with pikepdf.open(io.BytesIO(original)) as pdf:  # the author really is there to begin with
        assert str(pdf.docinfo["/Author"]) == AUTHOR and "/Metadata" in pdf.Root
    cleaned = uploads.check_and_clean(original, "letter.pdf", LIMITS).data
    assert AUTHOR.encode() not in cleaned and b"Scanner of" not in cleaned
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root
        assert all("/Metadata" not in obj for obj in pdf.objects if isinstance(obj, pikepdf.Dictionary))
    assert files.pdf_text(cleaned) == PAGE_TEXT


def test_words_an_earlier_revision_replaced_are_not_kept():
    original = files.pdf_with_earlier_revision("Draft naming the member", PAGE_TEXT)
    assert b"Draft naming the member" in original and files.pdf_text(original) == PAGE_TEXT
    cleaned = uploads.check_and_clean(original, "letter.pdf", LIMITS).data
    assert files.pdf_text(cleaned) == PAGE_TEXT
    assert b"Draft naming" not in cleaned and b"Draft naming" not in pikepdf_streams(cleaned)


def pikepdf_streams(data: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return b"".join(obj.read_bytes() for obj in pdf.objects if isinstance(obj, pikepdf.Stream))


def test_a_password_protected_or_broken_pdf_is_refused():
    locked = io.BytesIO()
    with pikepdf.open(io.BytesIO(files.pdf_bytes())) as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(owner="o", user="u"))
    with pytest.raises(uploads.UploadRefused, match="protected by a password"):
        uploads.check_and_clean(locked.getvalue(), "letter.pdf", LIMITS)
    with pytest.raises(uploads.UploadRefused, match="could not be read"):
        uploads.check_and_clean(b"%PDF-1.7\n" + bytes(500), "letter.pdf", LIMITS)


def test_a_pdf_whose_object_stream_inflates_without_end_stops_only_its_child():
    # qpdf must inflate the object stream holding the catalog whole: 300 MB against 64 MB allowed.
    bomb = files.pdf_object_stream_bomb(300 * MB)
    assert len(bomb) < 500_000
    tight = dataclasses.replace(LIMITS, clean_memory_mb=64)
    with pytest.raises(uploads.UploadRefused, match=r"could not be read|more memory"):
        uploads.check_and_clean(bomb, "letter.pdf", tight)


def test_an_image_that_decodes_past_the_memory_cap_stops_only_its_child():
    # Under the pixel cap but not under the memory cap: the child runs out, the server does not.
    roomy = dataclasses.replace(LIMITS, image_max_pixels=10**9, clean_memory_mb=48)
    with pytest.raises(uploads.UploadRefused, match="needs more memory to check than we allow"):
        uploads.check_and_clean(files.png_of(12_000, 12_000), "wmt.png", roomy)


# ---------------------------------------------------------------- DOCX and ODT


def test_a_docx_loses_its_properties_and_keeps_a_consistent_package():
    workbook = files.xlsx_bytes(author=AUTHOR)
    original = files.docx_bytes(author=AUTHOR, image=files.jpeg_with_gps(), embedded=workbook)
    assert b"docProps/core.xml" in original
    cleaned = uploads.check_and_clean(original, "letter.docx", LIMITS)
    assert cleaned.kind.extension == "docx"
    members = unpacked(cleaned.data)
    assert_nothing_names_the_author(cleaned.data)
    assert not [name for name in members if "docProps/" in name]
    assert PAGE_TEXT.encode() in members["word/document.xml"]
    # Every part the package still names is there, and nothing points at a part that is gone.
    types = etree.fromstring(members["[Content_Types].xml"])
    for override in types:
        assert override.get("PartName") is None or override.get("PartName").lstrip("/") in members
    for rel in etree.fromstring(members["_rels/.rels"]):
        assert rel.get("Target").lstrip("/") in members
    assert etree.fromstring(members["word/_rels/document.xml.rels"]) is not None
    # The picture is redrawn (no GPS), the embedded workbook cleaned in turn.
    assert b"SecretCam" not in members["word/media/image1.jpeg"]
    assert "word/embeddings/Workbook1.xlsx!xl/workbook.xml" in members
    assert "word/embeddings/Workbook1.xlsx!docProps/core.xml" not in members
    # Nothing of the original zip's own records: fixed times, no comment.
    with zipfile.ZipFile(io.BytesIO(cleaned.data)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert archive.comment == b"" and all(info.extra == b"" for info in archive.infolist())


def test_an_odt_loses_its_meta_xml_and_its_manifest_entry():
    cleaned = uploads.check_and_clean(files.odt_bytes(author=AUTHOR), "letter.odt", LIMITS).data
    assert_nothing_names_the_author(cleaned)
    with zipfile.ZipFile(io.BytesIO(cleaned)) as archive:
        first = archive.infolist()[0]
        # Readers tell an ODF file by its first member: still "mimetype", stored, not compressed.
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert "meta.xml" not in archive.namelist()
        manifest = archive.read("META-INF/manifest.xml")
    assert manifest.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    paths = [entry.get(f"{{{files._MANIFEST}}}full-path") for entry in etree.fromstring(manifest)]
    assert paths == ["/", "content.xml"]
    assert uploads.sniff(cleaned, "letter.odt", LIMITS).extension == "odt"


# ---------------------------------------------------------------- the zip caps


def test_a_zip_bomb_is_refused_by_its_ratio_after_a_few_megabytes(tmp_path):
    bomb = files.zip_bomb(tmp_path / "bomb.docx", inflated=64 * MB).read_bytes()
    with pytest.raises(uploads.UploadRefused, match="packed far more tightly"):
        archives.inspect(bomb, LIMITS)


def test_a_member_under_the_grace_size_may_compress_as_well_as_it_likes(tmp_path):
    small = files.zip_bomb(tmp_path / "small.docx", inflated=archives.RATIO_GRACE_BYTES).read_bytes()
    assert uploads.sniff(small, "small.docx", LIMITS).extension == "docx"


def test_a_directory_that_understates_sizes_is_not_believed(tmp_path):
    bomb = files.zip_bomb(tmp_path / "bomb.docx", inflated=64 * MB).read_bytes()
    with pytest.raises(uploads.UploadRefused):
        archives.inspect(files.lying_directory(bomb), LIMITS)


def test_the_size_cap_counts_inflated_bytes_on_both_sides(tmp_path):
    loose = files.loosely_packed(tmp_path / "loose.docx", inflated=8 * MB).read_bytes()
    small_doc = len("<Types/>")
    exactly = dataclasses.replace(LIMITS, zip_max_uncompressed_bytes=8 * MB + small_doc)
    archives.inspect(loose, exactly)
    with pytest.raises(uploads.UploadRefused, match="too large once unpacked"):
        archives.inspect(loose, dataclasses.replace(exactly, zip_max_uncompressed_bytes=8 * MB + small_doc - 1))


def test_the_member_cap_holds_on_both_sides():
    archives.inspect(files.many_members(LIMITS.zip_max_members - 2), LIMITS)  # two more: the document's own
    with pytest.raises(uploads.UploadRefused, match="more than 1000 files"):
        archives.inspect(files.many_members(LIMITS.zip_max_members - 1), LIMITS)


def test_archives_inside_are_inspected_and_cleaned_but_not_nested_deeper():
    one_deep = files.docx_bytes(embedded=files.xlsx_bytes(author=AUTHOR))
    assert uploads.sniff(one_deep, "letter.docx", LIMITS).extension == "docx"
    with pytest.raises(uploads.UploadRefused, match="archives inside archives"):
        archives.inspect(files.nested_zips(2), LIMITS)


def test_a_bomb_inside_an_embedded_archive_is_refused(tmp_path):
    inner = files.zip_bomb(tmp_path / "inner.xlsx", inflated=64 * MB).read_bytes()
    with pytest.raises(uploads.UploadRefused, match="packed far more tightly"):
        archives.inspect(files.docx_bytes(embedded=inner), LIMITS)


@pytest.mark.parametrize(
    "data, message",
    [
        (files.overlapping_members(), "could not be read"),
        (files.encrypted_flag(files.docx_bytes()), "encrypted"),
        (files.bzip2_docx(), "could not be read"),
        (files.escaping_member(), "could not be read"),
    ],
    ids=["overlapping members", "encrypted", "bzip2", "path out of the archive"],
)
def test_archives_built_to_mislead_are_refused(data, message):
    with pytest.raises(uploads.UploadRefused, match=message):
        archives.inspect(data, LIMITS)


def test_a_name_given_twice_is_refused():
    # Two readers could each take a different one of the two.
    with pytest.raises(uploads.UploadRefused, match="could not be read"):
        archives.inspect(_with_name_twice(), LIMITS)


def _with_name_twice() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/document.xmm", "<w:document>other</w:document>")
    return buffer.getvalue().replace(b"word/document.xmm", b"word/document.xml")


def test_xml_with_a_dtd_is_refused_before_it_is_parsed():
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">&lol2;</Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", laughs)
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(uploads.UploadRefused, match="could not be read"):
        uploads.check_and_clean(buffer.getvalue(), "letter.docx", LIMITS)
