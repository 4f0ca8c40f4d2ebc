"""A letter in Welsh: the fixed words, the dates and plural forms from the Welsh catalogue; the
rep's own wording and the names as typed; an unknown language is English."""

from __future__ import annotations

import io
import re
from datetime import date

from pypdf import PdfReader

from napo_tracker.extensions import db
from napo_tracker.notices import services


def _text(data: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def test_a_notice_served_in_welsh_freezes_a_welsh_letter(world, make_notice):
    notice = make_notice(kind="collective", signatory_count=9, caseload=61)
    services.serve_notice(world.london_rep, notice, date(2026, 3, 2), on=date(2026, 3, 3), language="cy")
    db.session.commit()
    text = _text(notice.letter_pdf)
    assert "Annwyl Jo Manager," in text and "Hysbysiad rhagweladwyedd" in text
    assert "Rydym ni, 9 aelod o staff yn London PDU" in text
    assert "61 achos" in text and "Llwyth achosion y tu hwnt i'r capasiti" in text
    assert "Dydd Llun 16 Mawrth 2026" in text or "dydd Llun 16 Mawrth 2026" in text
    assert "Dear" not in text and "Yours sincerely" not in text and "Yn gywir," in text


def test_a_draft_letter_in_welsh_and_an_unknown_language_in_english(client, login_as, world, make_notice):
    notice = make_notice()
    login_as(world.london_rep)
    welsh = client.get(f"/notices/{notice.reference}/letter.pdf?doc_lang=cy")
    assert welsh.status_code == 200 and "Annwyl" in _text(welsh.data)
    english = client.get(f"/notices/{notice.reference}/letter.pdf?doc_lang=xx&lang=cy")
    assert "Dear" in _text(english.data) and "Annwyl" not in _text(
        english.data
    )  # the page's language is not the letter's


def test_a_bilingual_letter_is_the_welsh_letter_then_the_english_one(world, make_notice):
    notice = make_notice(caseload=61)
    services.serve_notice(world.london_rep, notice, date(2026, 3, 2), on=date(2026, 3, 3), language="both")
    db.session.commit()
    pages = [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(notice.letter_pdf)).pages]
    welsh_end = next(number for number, page in enumerate(pages) if "Yn gywir," in page)
    english_start = next(number for number, page in enumerate(pages) if "Dear Jo Manager," in page)
    # The English letter starts on a page of its own, after the Welsh one has ended.
    assert welsh_end < english_start and "Annwyl" not in pages[english_start]
    text = " ".join(pages)
    assert "Annwyl Jo Manager," in text and "Dear Jo Manager," in text
    assert "61 achos" in text and "61 cases" in text
    assert "16 Mawrth 2026" in text and "16 March 2026" in text
    assert f"{notice.reference} · 1 / {len(pages)}" in text  # the footer needs no words


def test_the_draft_letter_can_be_printed_in_both_languages(client, login_as, world, make_notice):
    notice = make_notice()
    login_as(world.london_rep)
    both = client.get(f"/notices/{notice.reference}/letter.pdf?doc_lang=both")
    assert both.status_code == 200
    assert "Annwyl" in _text(both.data) and "Dear" in _text(both.data)
