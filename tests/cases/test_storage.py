"""The file store: type by content, clean images, safe names, paths that stay inside."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from napo_tracker import storage

from .files import EML, HTML, docx_bytes, jpeg_with_gps, odt_bytes, pdf_bytes, png_with_text


@pytest.mark.parametrize(
    "data, name, extension",
    [
        (pdf_bytes(), "letter.pdf", "pdf"),
        (docx_bytes(), "letter.docx", "docx"),
        (odt_bytes(), "letter.odt", "odt"),
        (jpeg_with_gps(), "wmt.jpeg", "jpg"),
        (png_with_text(), "wmt.png", "png"),
        (EML, "manager.eml", "eml"),
        (b"Notes from the team meeting.\n", "notes.txt", "txt"),
        (pdf_bytes(), "no-extension", "pdf"),
    ],
)
def test_accepted_kinds_are_known_by_content(data, name, extension):
    assert storage.sniff(data, name).extension == extension


@pytest.mark.parametrize(
    "data, name, message",
    [
        (HTML, "letter.pdf", "web page"),
        (b"", "empty.txt", "empty"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200), "tool.pdf", "could not recognise"),
        (b"plain words", "letter.pdf", "named as a PDF"),
        (pdf_bytes(), "photo.png", "named as a PNG"),
        (b"PK\x03\x04" + bytes(40), "letter.docx", "could not recognise"),
        (b"GIF89a" + bytes(30), "x.gif", "could not recognise"),
    ],
)
def test_other_content_is_refused_whatever_its_name(data, name, message):
    with pytest.raises(storage.UploadRefused, match=message):
        storage.sniff(data, name)


def test_images_lose_exif_gps_and_text_chunks():
    jpeg = storage.clean_image(jpeg_with_gps(), storage.KINDS["jpg"])
    assert b"SecretCam" not in jpeg and b"Exif" not in jpeg
    with Image.open(io.BytesIO(jpeg)) as image:
        assert dict(image.getexif()) == {} and image.size == (40, 30)
    png = storage.clean_image(png_with_text(), storage.KINDS["png"])
    assert b"Private Person" not in png
    with Image.open(io.BytesIO(png)) as image:
        assert "Author" not in image.info


def test_a_broken_image_is_refused():
    with pytest.raises(storage.UploadRefused):
        storage.clean_image(b"\x89PNG\r\n\x1a\n" + bytes(30), storage.KINDS["png"])


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
    ],
)
def test_file_names_are_made_safe(name, expected):
    assert storage.safe_filename(name, storage.KINDS["pdf"]) == expected


def test_saved_files_have_random_names_inside_the_store(app):
    stored = storage.save(b"hello")
    path = storage.path_for(stored.stored_name)
    assert path.parent == storage.files_dir() and b"hello" not in path.read_bytes()  # encrypted at rest
    assert storage.read(stored.stored_name) == b"hello"
    assert stored.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert storage.save(b"hello").stored_name != stored.stored_name
    for bad in ("../" + stored.stored_name, "/etc/passwd", "..", "", "a" * 10, stored.stored_name + "/.."):
        with pytest.raises(ValueError):
            storage.path_for(bad)
    storage.delete(stored.stored_name)
    assert not path.exists()
