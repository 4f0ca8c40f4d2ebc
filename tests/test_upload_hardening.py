"""Upload bypasses, tried through the casework service and the real upload page, on both databases.

Decompression bombs (and a measurement of the memory their inspection takes), documents that
name their author, lying types, double extensions, oversized files and hostile names. Each is
refused with a message next to the file field, leaving no row and no file, or stored cleaned
under a random name. Every file is built here or in tests/files.py.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from napo_tracker import storage, uploads
from napo_tracker.cases.models import CaseAttachment
from napo_tracker.cases.services import CaseError, add_attachment
from napo_tracker.extensions import db
from tests import factories, files
from tests.files import AUTHOR, EML, HTML, PAGE_TEXT, stored_files
from tests.helpers import form_tokens, post_file

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
# What inspecting a bomb may add to the peak RSS of the process that inspects it. The bomb file itself is about
# 1 MB; inflation holds one 64 KB chunk and zlib's 32 KB window at a time. The rest is headroom
# for the interpreter's allocator. It is a sixteenth of the 1 GB the bomb inflates to, and below
# the 100 MB size cap, so an inspection that kept what it inflated could not pass.
MEMORY_BOUND_MB = 64


@pytest.fixture(scope="session")
def bomb(tmp_path_factory) -> Path:
    """A 1 MB DOCX whose document inflates to 1 GB of zeros, built once for the session."""
    return files.zip_bomb(tmp_path_factory.mktemp("bombs") / "bomb.docx", inflated=files.GIB)


@pytest.fixture
def case(world):
    return factories.make_case(world.london_rep, world.london)


@pytest.fixture
def rep(client, login_as, world):
    login_as(world.london_rep)
    return client


def upload(client, case, data: bytes, name: str):
    tokens = form_tokens(client.get(f"/cases/{case.reference}").data)
    return post_file(client, f"/cases/{case.reference}/attachments", data, name, **tokens)


def only_attachment() -> CaseAttachment:
    return db.session.scalars(select(CaseAttachment)).one()


def attachment_count() -> int:
    return db.session.scalar(select(func.count(CaseAttachment.id))) or 0


def assert_refused(response, message: str, app) -> None:
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    # next to the file field, as that field's error
    assert page.index('name="file"') < page.index(message)
    assert attachment_count() == 0 and stored_files(app) == []


def downloaded(client, case, attachment: CaseAttachment) -> bytes:
    with client.get(f"/cases/{case.reference}/attachments/{attachment.id}") as response:
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment;")
        return response.data


# ---------------------------------------------------------------- decompression bombs


def test_a_zip_bomb_is_refused_by_the_service_leaving_nothing(app, world, case, bomb):
    with pytest.raises(CaseError, match="packed far more tightly") as refused:
        add_attachment(world.london_rep, case, filename="letter.docx", data=bomb.read_bytes())
    assert refused.value.field == "file"
    db.session.rollback()
    assert attachment_count() == 0 and stored_files(app) == []


@pytest.mark.parametrize("member", ["word/document.xml", "mimetype"])
def test_a_zip_bomb_is_refused_on_the_upload_page(app, rep, case, tmp_path, member):
    # As an ODT, the bomb is the very member read to tell the kind.
    bomb = files.zip_bomb(tmp_path / "bomb.zip", inflated=256 * MB, member=member).read_bytes()
    assert_refused(upload(rep, case, bomb, "letter.docx"), "packed far more tightly than real documents", app)
    # and the app goes on working
    assert upload(rep, case, files.docx_bytes(), "letter.docx").status_code == 302


def test_the_one_gigabyte_bomb_is_refused_on_the_upload_page(app, rep, case, bomb):
    assert_refused(upload(rep, case, bomb.read_bytes(), "letter.docx"), "packed far more tightly", app)


@pytest.mark.parametrize(
    "data, message",
    [
        (files.nested_zips(2), "archives inside archives"),
        (files.many_members(1200), "more than 1000 files"),
        (files.overlapping_members(), "could not be read"),
        (files.encrypted_flag(files.docx_bytes()), "encrypted"),
    ],
    ids=["nested", "too many members", "overlapping", "encrypted"],
)
def test_other_archive_tricks_are_refused_on_the_upload_page(app, rep, case, data, message):
    assert_refused(upload(rep, case, data, "letter.docx"), message, app)


def _measure(script: str, *args: str) -> dict:
    """Run ``script`` in a fresh interpreter; it prints the growth of its own peak RSS as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# Peak RSS is read as VmHWM: Linux carries getrusage()'s ru_maxrss across exec from the process
# that started this one (pytest, often hundreds of MB by then), which would hide any growth;
# VmHWM is this process's own peak. The control test below shows the measurement does see growth.
MEASURE = """
import io, json, sys, time, zipfile
from napo_tracker.uploads import UploadRefused, archives, check_and_clean, current_limits

def peak_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

data = open(sys.argv[2], "rb").read()
limits = current_limits()
before = peak_kib()
started = time.monotonic()
try:
    if sys.argv[1] == "inspect":
        archives.inspect(data, limits)
    elif sys.argv[1] == "naive":  # what a reader that believes the archive does
        zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
    else:
        check_and_clean(data, "letter.docx", limits)
    outcome = "accepted"
except UploadRefused as refused:
    outcome = str(refused)
print(json.dumps({"grew_mb": (peak_kib() - before) / 1024, "seconds": time.monotonic() - started, "outcome": outcome}))
"""


def test_inspecting_a_one_gigabyte_bomb_keeps_memory_bounded(bomb):
    measured = _measure(MEASURE, "inspect", str(bomb))
    assert "packed far more tightly" in measured["outcome"]
    assert measured["grew_mb"] < MEMORY_BOUND_MB, measured
    assert measured["seconds"] < 5, measured


def test_the_measurement_sees_a_reader_that_keeps_what_it_inflates(tmp_path):
    # The control: the same measurement fails a plain zipfile read of a 90 MB document.
    loose = files.loosely_packed(tmp_path / "loose.docx", inflated=90 * MB)
    assert _measure(MEASURE, "naive", str(loose))["grew_mb"] > MEMORY_BOUND_MB


def test_inflating_up_to_the_size_cap_keeps_memory_bounded(tmp_path):
    # An honest ratio (about 24 : 1), so nothing stops it before 100 MB are inflated and counted.
    loose = files.loosely_packed(tmp_path / "loose.docx", inflated=150 * MB)
    measured = _measure(MEASURE, "inspect", str(loose))
    assert "too large once unpacked (100 MB at most)" in measured["outcome"]
    assert measured["grew_mb"] < MEMORY_BOUND_MB, measured
    assert measured["seconds"] < 20, measured


def test_checking_and_cleaning_a_large_document_keeps_the_worker_bounded(tmp_path):
    # 90 MB once inflated, accepted: inspected in chunks here, rebuilt in the bounded child.
    loose = files.loosely_packed(tmp_path / "loose.docx", inflated=90 * MB)
    measured = _measure(MEASURE, "clean", str(loose))
    assert measured["outcome"] == "accepted"
    assert measured["grew_mb"] < MEMORY_BOUND_MB, measured
    assert measured["seconds"] < 30, measured


# ---------------------------------------------------------------- metadata


def _docx_words(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("word/document.xml")


def _odt_words(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("content.xml")


@pytest.mark.parametrize(
    "data, name, words",
    [
        (files.docx_bytes(author=AUTHOR), "letter.docx", _docx_words),
        (files.odt_bytes(author=AUTHOR), "letter.odt", _odt_words),
        (files.pdf_bytes(author=AUTHOR), "letter.pdf", lambda data: files.pdf_text(data).encode()),
    ],
    ids=["docx", "odt", "pdf"],
)
def test_documents_are_stored_and_served_without_their_authors_name(app, rep, case, data, name, words):
    assert AUTHOR.encode() in data or AUTHOR.encode() in b"".join(files_inside(data))
    assert upload(rep, case, data, name).status_code == 302
    served = downloaded(rep, case, only_attachment())
    assert AUTHOR.encode() not in served and not any(AUTHOR.encode() in part for part in files_inside(served))
    assert PAGE_TEXT.encode() in words(served)
    assert storage.read(only_attachment().stored_name) == served  # what is kept is what is served


def files_inside(data: bytes) -> list[bytes]:
    if not data.startswith(b"PK"):
        return []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [archive.read(name) for name in archive.namelist()]


def test_the_service_cleans_a_docx_with_a_photo_and_an_embedded_workbook(app, world, case):
    data = files.docx_bytes(author=AUTHOR, image=files.jpeg_with_gps(), embedded=files.xlsx_bytes(author=AUTHOR))
    attachment = factories.make_attachment(world.london_rep, case, data, "letter.docx")
    stored = storage.read(attachment.stored_name)
    inside = files_inside(stored)
    assert not any(AUTHOR.encode() in part or b"SecretCam" in part for part in inside)
    nested = [part for part in inside if part.startswith(b"PK")]
    assert nested and not any(AUTHOR.encode() in part for part in files_inside(nested[0]))
    assert attachment.size_bytes == len(stored) and attachment.content_type == uploads.KINDS["docx"].content_type


# ---------------------------------------------------------------- lying types


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


@pytest.mark.parametrize(
    "data, name, message",
    [
        (HTML, "letter.pdf", "web page (HTML)"),
        (SVG, "chart.png", "web page (HTML)"),
        (files.pdf_bytes(), "photo.png", "named as a PNG image file, but its content is PDF"),
        (files.docx_bytes(), "letter.odt", "named as a OpenDocument text (ODT) file, but its content is Word"),
        (b"MZ\x90\x00" + bytes(300), "letter.docx", "could not recognise"),
        (files.xlsx_bytes(author="x"), "letter.docx", "could not recognise"),
        (b"\x7fELF" + bytes(300), "notes.txt", "could not recognise"),
        (b"%PDF-1.7\n" + bytes(300), "letter.pdf", "This PDF could not be read"),
    ],
    ids=["html as pdf", "svg as png", "pdf as png", "docx as odt", "exe", "xlsx as docx", "elf as txt", "fake pdf"],
)
def test_lying_types_are_refused_on_the_upload_page(app, rep, case, data, name, message):
    assert_refused(upload(rep, case, data, name), message, app)


def test_a_polyglot_keeps_only_what_its_content_says_it_is(app, rep, case):
    polyglot = files.png_with_text() + HTML
    assert upload(rep, case, polyglot, "chart.png").status_code == 302
    served = downloaded(rep, case, only_attachment())
    assert served.startswith(b"\x89PNG") and b"<script>" not in served


# ---------------------------------------------------------------- double extensions


@pytest.mark.parametrize(
    "data, name, stored_as, content_type",
    [
        (files.pdf_bytes(), "letter.pdf.exe", "letter.pdf.exe.pdf", "application/pdf"),
        (files.docx_bytes(), "report.docx.html", "report.docx.html.docx", uploads.KINDS["docx"].content_type),
        (b"Notes.\n", "notes.txt.js", "notes.txt.js.txt", "text/plain"),
    ],
)
def test_a_double_extension_ends_in_what_the_file_really_is(app, rep, case, data, name, stored_as, content_type):
    assert upload(rep, case, data, name).status_code == 302
    attachment = only_attachment()
    assert (attachment.original_name, attachment.content_type) == (stored_as, content_type)
    with rep.get(f"/cases/{case.reference}/attachments/{attachment.id}") as response:
        assert response.headers["Content-Type"].startswith(content_type)
        assert response.headers["Content-Disposition"].endswith(f"{stored_as}")
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_web_page_with_a_document_extension_first_is_refused(app, rep, case):
    assert_refused(upload(rep, case, HTML, "report.docx.html"), "web page (HTML)", app)


# ---------------------------------------------------------------- oversized files


def test_a_file_of_exactly_ten_megabytes_is_accepted(app, rep, case):
    assert upload(rep, case, b"a" * uploads.MAX_UPLOAD_BYTES, "notes.txt").status_code == 302
    assert only_attachment().size_bytes == uploads.MAX_UPLOAD_BYTES


def test_one_byte_more_is_refused_with_a_message(app, rep, case):
    response = upload(rep, case, b"a" * (uploads.MAX_UPLOAD_BYTES + 1), "notes.txt")
    assert_refused(response, "the most we accept is 10 MB", app)


def test_one_byte_more_is_refused_by_the_service_too(app, world, case):
    with pytest.raises(CaseError, match="larger than 10 MB"):
        add_attachment(world.london_rep, case, filename="notes.txt", data=b"a" * (uploads.MAX_UPLOAD_BYTES + 1))


def test_a_request_over_the_request_limit_gets_a_413_page(app, rep, case):
    response = upload(rep, case, b"a" * (app.config["MAX_CONTENT_LENGTH"] + 1), "notes.txt")
    assert response.status_code == 413
    assert attachment_count() == 0 and stored_files(app) == []


# ---------------------------------------------------------------- hostile names


@pytest.mark.parametrize(
    "name, data, shown_as",
    [
        ("../../etc/passwd", b"root:x:0:0\n", "passwd.txt"),
        # the multipart parser reads a backslash in a quoted name as an escape, and drops it
        ("..\\..\\Windows\\win.ini", b"[fonts]\n", "Windowswin.ini.txt"),
        ("/etc/shadow", b"x\n", "shadow.txt"),
        ("invoice\u202efdp.exe", files.pdf_bytes(), "invoicefdp.exe.pdf"),
        ("letter\x00.exe.pdf", files.pdf_bytes(), "letter.exe.pdf"),
        ("..", EML, "attachment.eml"),
        ("a" * 1000 + ".pdf", files.pdf_bytes(), "a" * 150 + ".pdf"),
        ("<img src=x onerror=alert(1)>.pdf", files.pdf_bytes(), "<img src=x onerror=alert(1)>.pdf"),
    ],
    ids=["dot-dot", "backslashes", "absolute", "rtl override", "nul", "only dots", "very long", "markup"],
)
def test_hostile_names_are_made_safe_and_the_file_stays_in_the_store(app, rep, case, name, data, shown_as):
    assert upload(rep, case, data, name).status_code == 302
    attachment = only_attachment()
    assert attachment.original_name == shown_as
    # stored under a random name, inside the store, whatever it was called
    assert stored_files(app) == [attachment.stored_name]
    assert storage.path_for(attachment.stored_name).parent == storage.files_dir()
    page = rep.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "<img src=x" not in page and "\u202e" not in page
    with rep.get(f"/cases/{case.reference}/attachments/{attachment.id}") as response:
        disposition = response.headers["Content-Disposition"]
    assert "/" not in disposition.split("filename", 1)[1] and "\x00" not in disposition
