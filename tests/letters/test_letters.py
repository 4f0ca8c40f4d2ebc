"""Letters from templates: merge fields only (anything else refused at save), a preview, then a
letter frozen as a PDF with its SHA-256, stored encrypted and filed on the timeline."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import LargeBinary, func, select, type_coerce

from napo_tracker.cases.models import CaseEntry
from napo_tracker.extensions import db
from napo_tracker.letters.models import LetterTemplate, SentLetter
from napo_tracker.letters.services import LetterError, create_template, draft_letter, fields_used, update_template
from tests import factories
from tests.files import pdf_text
from tests.helpers import form_tokens


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Dear {{ member.nickname }}", "{{ member.nickname }} is not one of them"),
        ("{{ case }}", "{{ case }} is not one of them"),
        ("{{ ''.__class__.__mro__ }}", "is not one of them"),
        ("{{ case.__class__ }}", "{{ case.__class__ }} is not one of them"),
        ("{{ case.reference.upper() }}", "is not one of them"),
        ("{{ case.reference|upper }}", "is not one of them"),
        ("{{ config.SECRET_KEY }}", "{{ config.SECRET_KEY }} is not one of them"),
        ("{{ self._TemplateReference__context }}", "is not one of them"),
        ("{% for x in range(10) %}x{% endfor %}", "no tags"),
        ("{% include 'base.html' %}", "no tags"),
        ("{{ case.reference", "cannot be read"),
    ],
)
def test_a_template_reaching_past_its_fields_is_refused_at_save(world, body, message):
    with pytest.raises(LetterError, match=re.escape(message)):
        create_template(world.admin, name="Bad", kind="other", subject="", body=body)
    db.session.rollback()
    assert db.session.scalar(select(LetterTemplate.id)) is None


def test_the_fields_a_template_names(world):
    assert fields_used("To {{ notice.served_to_name }} about {{case.reference}}.") == {
        ("notice", "served_to_name"),
        ("case", "reference"),
    }


def test_only_admins_keep_templates_and_edits_are_versioned(world):
    with pytest.raises(LetterError):
        create_template(world.london_rep, name="Mine", kind="other", subject="", body="Hello")
    template = factories.make_letter_template(world.admin)
    with pytest.raises(LetterError, match="is not one of them"):
        update_template(
            world.admin, template, name="X", kind="other", subject="", body="{{ rep.password }}", expected_version=None
        )


def test_a_foreseeability_letter_names_member_and_rep_only_when_they_agree(world):
    member = factories.make_member(world.london_rep, world.london, name="Ada Example", membership_number="N-1")
    case = factories.make_case(world.london_rep, world.london, member_id=member.id)
    notice = factories.make_notice(
        world.london_rep, world.london, case_reference=case.reference, served_to_name="Jo Manager"
    )
    template = factories.make_letter_template(
        world.admin,
        name="Foreseeability",
        kind="foreseeability",
        body="Dear {{ notice.served_to_name }},\n\n{{ member.name }} ({{ member.membership_number }}) gives notice"
        " ({{ notice.reference }}).\n\n{{ rep.name }}",
    )
    with pytest.raises(LetterError, match="agree to be named"):
        draft_letter(world.london_rep, case, template, notice.id, member_agrees=False)
    with pytest.raises(LetterError, match="only reps of their region and admins"):
        draft_letter(world.official, case, template, notice.id, member_agrees=True)
    with pytest.raises(LetterError, match="choose which"):
        draft_letter(world.london_rep, case, template, None, member_agrees=True)
    draft = draft_letter(world.london_rep, case, template, notice.id, member_agrees=True)
    assert "Dear Jo Manager" in draft.body and "Ada Example (N-1)" in draft.body and notice.reference in draft.body
    assert world.london_rep.display_name in draft.body


def test_a_sent_letter_is_frozen_encrypted_with_its_sha256_and_on_the_timeline(world):
    case = factories.make_case(world.london_rep, world.london, title="Caseload of sixty")
    template = factories.make_letter_template(world.admin)
    letter = factories.make_sent_letter(world.london_rep, case, template)
    assert letter.pdf.startswith(b"%PDF") and hashlib.sha256(letter.pdf).hexdigest() == letter.sha256
    stored = db.session.scalar(select(type_coerce(SentLetter.pdf, LargeBinary())).where(SentLetter.id == letter.id))
    assert stored and b"%PDF" not in stored  # ciphertext at rest
    entry = db.session.scalars(select(CaseEntry).where(CaseEntry.case_id == case.id, CaseEntry.kind == "letter")).one()
    assert letter.sha256 in entry.body
    # Later edits of the template never change what was sent.
    update_template(
        world.admin, template, name="New", kind="other", subject="", body="Other words", expected_version=None
    )
    db.session.commit()
    db.session.refresh(letter)
    assert hashlib.sha256(letter.pdf).hexdigest() == letter.sha256


def test_the_pages(client, login_as, world):
    case = factories.make_case(world.london_rep, world.london)
    template = factories.make_letter_template(world.admin)
    login_as(world.london_rep)
    page = client.get(f"/letters/cases/{case.reference}?template_id={template.id}")
    assert page.status_code == 200 and case.reference.encode() in page.data and b"letter-preview" in page.data
    tokens = form_tokens(page.data)
    sent = client.post(f"/letters/cases/{case.reference}", data={**tokens, "template_id": str(template.id)})
    assert sent.status_code == 302
    letter = db.session.scalars(select(SentLetter)).one()
    download = client.get(f"/letters/cases/{case.reference}/{letter.id}.pdf")
    assert download.status_code == 200 and hashlib.sha256(download.data).hexdigest() == letter.sha256
    assert client.get("/letters/templates/").status_code == 403
    login_as(world.wales_rep)
    assert client.get(f"/letters/cases/{case.reference}").status_code == 404
    assert client.get(f"/letters/cases/{case.reference}/{letter.id}.pdf").status_code == 404
    login_as(world.admin)
    bad = client.get("/letters/templates/new")
    tokens = form_tokens(bad.data)
    refused = client.post(
        "/letters/templates/new",
        data={**tokens, "name": "Bad", "kind": "other", "subject": "", "body": "{{ ''.__class__ }}"},
    )
    assert refused.status_code == 400 and b"is not one of them" in refused.data


def test_an_anonymised_case_loses_its_letters_and_a_subject_never_names_the_member(world):
    from napo_tracker.cases.services import anonymise_case

    case = factories.make_case(world.london_rep, world.london)
    letter_id = factories.make_sent_letter(world.london_rep, case, factories.make_letter_template(world.admin)).id
    anonymise_case(None, case, reason="retention")
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(SentLetter.id == letter_id)) == 0
    with pytest.raises(LetterError, match="may not name the member"):
        create_template(world.admin, name="S", kind="other", subject="About {{ member.name }}", body="Hello")


def test_a_members_subject_access_export_holds_the_letters_sent_about_their_cases(world):
    import io
    import json
    import zipfile

    from napo_tracker.privacy.export import build_export

    member = factories.make_member(world.london_rep, world.london, membership_number="N-7")
    case = factories.make_case(world.london_rep, world.london, member_id=member.id)
    letter = factories.make_sent_letter(world.london_rep, case, factories.make_letter_template(world.admin))
    archive = zipfile.ZipFile(io.BytesIO(build_export(world.admin, member)))
    path = f"letters/{case.reference}-{letter.id}.pdf"
    assert hashlib.sha256(archive.read(path)).hexdigest() == letter.sha256
    data = json.loads(archive.read("data.json"))
    assert data["cases"][0]["letters"][0]["sha256"] == letter.sha256


def test_the_demo_templates_fill_in_for_a_case_with_its_member_and_notice(world):
    from napo_tracker.letters import demo

    demo.load(lambda _line: None)
    demo.load(lambda _line: None)  # idempotent
    db.session.commit()
    member = factories.make_member(world.london_rep, world.london, name="Gwen Member")
    case = factories.make_case(world.london_rep, world.london, member_id=member.id)
    notice = factories.make_notice(world.london_rep, world.london, case_reference=case.reference)
    templates = db.session.scalars(select(LetterTemplate)).all()
    assert len(templates) == len(demo.TEMPLATES)
    for template in templates:
        draft = draft_letter(world.london_rep, case, template, notice.id, member_agrees=True)
        assert "Gwen Member" in draft.body and "{{" not in draft.body


@pytest.mark.parametrize(
    ("language", "fixed", "absent"),
    [
        ("en", ["Date", "Our reference", "opened on 3 March 2026"], ["Dyddiad"]),
        ("cy", ["Dyddiad", "Ein cyfeirnod", "opened on 3 Mawrth 2026"], ["Our reference", "March"]),
        ("both", ["Dyddiad / Date", "Ein cyfeirnod / Our reference", "opened on 3 March 2026"], []),
    ],
)
def test_a_letters_fixed_words_and_dates_are_in_the_language_chosen(world, language, fixed, absent):
    from datetime import date

    from napo_tracker.letters.services import send_letter

    case = factories.make_case(world.london_rep, world.london, opened_on=date(2026, 3, 3))
    template = create_template(
        world.admin,
        name="Opened",
        kind="other",
        subject="About {{ case.reference }}",
        body="The case was opened on {{ case.opened_on }}.",
    )
    letter = send_letter(world.london_rep, case, template, None, False, language)
    db.session.commit()
    text = " ".join(pdf_text(letter.pdf).split())
    for words in fixed:
        assert words in text
    for words in absent:
        assert words not in text


def test_a_language_not_on_the_list_is_refused(world):
    case = factories.make_case(world.london_rep, world.london)
    template = factories.make_letter_template(world.admin)
    with pytest.raises(LetterError, match="Choose a language"):
        draft_letter(world.london_rep, case, template, None, False, "fr")


def test_a_rep_previews_and_sends_a_welsh_letter_and_a_language_off_the_list_is_refused(client, login_as, world):
    case = factories.make_case(world.london_rep, world.london)
    template = factories.make_letter_template(world.admin)
    login_as(world.london_rep)
    page = client.get(f"/letters/cases/{case.reference}?template_id={template.id}&language=cy")
    assert page.status_code == 200 and b'name="language" value="cy"' in page.data
    refused = client.get(f"/letters/cases/{case.reference}?template_id={template.id}&language=fr")
    assert refused.status_code == 400 and b"letter-preview" not in refused.data
    tokens = form_tokens(page.data)
    bad = client.post(
        f"/letters/cases/{case.reference}", data={**tokens, "template_id": str(template.id), "language": "xx"}
    )
    assert bad.status_code == 400 and db.session.scalar(select(func.count(SentLetter.id))) == 0
    sent = client.post(
        f"/letters/cases/{case.reference}", data={**tokens, "template_id": str(template.id), "language": "cy"}
    )
    assert sent.status_code == 302
    letter = db.session.scalars(select(SentLetter)).one()
    assert "Ein cyfeirnod" in pdf_text(letter.pdf)
