"""Letter templates and sending letters.

The rules: a template's body may hold text and named merge fields only (``{{ case.reference }}``,
the names in ``FIELDS``); anything else a Jinja template can do (calls, filters, loops,
attribute chains, another object's attributes) is refused when the template is saved, so
nothing a template says can reach past the plain values it is given. It is rendered in
Jinja's ``SandboxedEnvironment`` all the same, from plain strings, never from live records.
A letter naming the member needs someone who may see who they are, and the member's
agreement to be named; a letter naming a notice needs that notice, one of the case's. A sent
letter is frozen: its PDF, encrypted, with the SHA-256 of the PDF as served, filed on the
case's timeline. A letter's fixed words (the date line, "Our reference") and the dates and
labels it merges are in English, Welsh, or both (Welsh first); its own words are the template's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from flask import abort, current_app
from flask_babel import force_locale, gettext
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import delete, event, inspect, select
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..audit.models import AuditAction, record
from ..cases.models import Case, CaseCategory
from ..cases.services import add_entry, get_case_for, may_see_identity
from ..extensions import db
from ..i18n import DOCUMENT_LANGUAGES, document_date, in_document_language
from ..kernel import clock
from ..kernel.clock import utcnow
from ..kernel.errors import DomainError, check_version
from ..kernel.ids import MAX_ID
from ..kernel.labels import N_
from ..kernel.vocabulary import Grade
from ..notices.models import ForeseeabilityNotice
from ..pdf import render_pdf
from .models import LetterKind, LetterTemplate, SentLetter

MAX_BODY = 20_000

# Every merge field a template may name, with what it holds.
FIELDS: dict[str, dict[str, str]] = {
    "case": {
        "reference": N_("the case's reference"),
        "title": N_("the case's title"),
        "category": N_("what the case is about"),
        "region": N_("the case's region"),
        "unit": N_("the case's unit"),
        "opened_on": N_("the day the case was opened"),
        "grade": N_("the grade recorded on the case"),
        "wmt_percent": N_("the WMT % recorded on the case"),
        "caseload": N_("the caseload recorded on the case"),
    },
    "member": {
        "name": N_("the member's name (only with their agreement)"),
        "membership_number": N_("the member's membership number (only with their agreement)"),
        "grade": N_("the member's grade"),
    },
    "notice": {
        "reference": N_("the notice's reference"),
        "served_on": N_("the day it was served"),
        "response_due_on": N_("the day management's response is due"),
        "served_to_name": N_("the manager it was served on"),
        "served_to_role": N_("that manager's role"),
        "wmt_percent": N_("the WMT % in the notice"),
    },
    "rep": {"name": N_("the rep sending the letter"), "email": N_("the rep's e-mail address")},
    "union": {"name": N_("the union's short name"), "full_name": N_("the union's full name")},
    "letter": {"date": N_("the day the letter is sent")},
}


# The languages a letter's fixed words, dates and labels can be in (Welsh first when both); the
# merged values of a bilingual letter are in English (its template holds both languages' words
# around them).
LETTER_LANGUAGES = DOCUMENT_LANGUAGES
_LOCALES = {"en": "en_GB", "cy": "cy", "both": "en_GB"}
DATE_LABEL = N_("Date")
REFERENCE_LABEL = N_("Our reference")


class LetterError(DomainError):
    """A template or a letter that breaks a rule; the message goes next to ``field``."""


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def fields_used(body: str) -> set[tuple[str, str]]:
    """The merge fields ``body`` names; a template doing anything but name them is refused."""
    try:
        tree = _environment().parse(body)
    except TemplateSyntaxError as error:
        raise LetterError(f"The template cannot be read (line {error.lineno}): {error.message}", "body") from None
    used: set[tuple[str, str]] = set()
    for output in tree.body:
        if not isinstance(output, nodes.Output):
            raise LetterError(
                "Only text and merge fields such as {{ case.reference }} may be used: no tags such as {% … %}.",
                "body",
            )
        for node in output.nodes:
            if isinstance(node, nodes.TemplateData):
                continue
            if (
                isinstance(node, nodes.Getattr)
                and isinstance(node.node, nodes.Name)
                and node.attr in FIELDS.get(node.node.name, {})
            ):
                used.add((node.node.name, node.attr))
                continue
            raise LetterError(
                "Only the merge fields listed may be used, such as {{ case.reference }}: "
                f"{_describe(node)} is not one of them.",
                "body",
            )
    return used


def _describe(node: nodes.Node) -> str:
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        return "{{ " + f"{node.node.name}.{node.attr}" + " }}"
    if isinstance(node, nodes.Name):
        return "{{ " + node.name + " }}"
    return f"an expression ({type(node).__name__.lower()})"


def _check_template(name: str, kind: str, subject: str, body: str, *, other_than: int | None = None) -> None:
    if not name.strip():
        raise LetterError("Give the template a name.", "name")
    if not LetterKind.has_value(kind):
        raise LetterError("Choose a kind from the list.", "kind")
    if not body.strip():
        raise LetterError("Write the letter.", "body")
    if len(body) > MAX_BODY:
        raise LetterError(f"The letter is longer than {MAX_BODY:,} characters.", "body")
    if any(root == "member" for root, _ in fields_used(subject)):
        # The subject is kept in clear as the sent letter's title: it may not name the member.
        raise LetterError("The subject line may not name the member (it is kept in clear).", "subject")
    fields_used(body)
    clash = select(LetterTemplate.id).where(LetterTemplate.name == name.strip())
    if other_than is not None:
        clash = clash.where(LetterTemplate.id != other_than)
    if db.session.scalar(clash) is not None:
        raise LetterError("Another template has this name.", "name")


class TemplatesAreAdmins(LetterError):
    status_code = 403


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise TemplatesAreAdmins("Only admins keep letter templates.")


def create_template(actor: User, *, name: str, kind: str, subject: str, body: str) -> LetterTemplate:
    """A new template, its merge fields checked (an unknown field or anything else refused)."""
    _require_admin(actor)
    _check_template(name, kind, subject, body)
    template = LetterTemplate(name=name.strip(), kind=kind, subject=subject.strip(), body=body)
    db.session.add(template)
    db.session.flush()
    record(actor, AuditAction.LETTER_TEMPLATE_SAVED, ("letter_templates", template.id), name=template.name)
    return template


def update_template(
    actor: User,
    template: LetterTemplate,
    *,
    name: str,
    kind: str,
    subject: str,
    body: str,
    expected_version: int | None,
) -> LetterTemplate:
    """A changed template, from the version the admin saw; letters already sent stay as sent."""
    _require_admin(actor)
    check_version(template, expected_version)
    _check_template(name, kind, subject, body, other_than=template.id)
    template.name, template.kind, template.subject, template.body = name.strip(), kind, subject.strip(), body
    template.updated_at = utcnow()
    db.session.flush()
    record(actor, AuditAction.LETTER_TEMPLATE_SAVED, ("letter_templates", template.id), name=template.name)
    return template


def templates_in_use() -> list[LetterTemplate]:
    return list(
        db.session.scalars(
            select(LetterTemplate).where(LetterTemplate.is_archived.is_(False)).order_by(LetterTemplate.name)
        )
    )


def get_template_or_404(template_id: int) -> LetterTemplate:
    template = db.session.get(LetterTemplate, template_id) if 0 < template_id <= MAX_ID else None
    if template is None:
        abort(404)
    return template


# ---------------------------------------------------------------------------- letters


@dataclass
class Draft:
    """A letter rendered for preview, and what it was made from."""

    template: LetterTemplate
    notice: ForeseeabilityNotice | None
    subject: str
    body: str
    language: str = "en"


def _day(on: date, language: str) -> str:
    return format_date(on, "d MMMM y", locale=_LOCALES[language])


def _label(label: str, language: str) -> str:
    """A list's label (a category, a grade) in a Welsh letter's language; as it is otherwise."""
    if language != "cy" or not label:
        return label
    with force_locale("cy"):
        return gettext(label)


def _values(
    actor: User,
    case: Case,
    notice: ForeseeabilityNotice | None,
    member_agrees: bool,
    on: date,
    language: str = "en",
) -> dict:
    """Plain strings for every merge field this letter may fill, dates and labels in ``language``."""
    unit = case.unit.name if case.unit else ""
    values: dict[str, dict[str, str]] = {
        "case": {
            "reference": case.reference,
            "title": case.title,
            "category": _label(CaseCategory.label_of(case.category), language),
            "region": case.region.name,
            "unit": unit,
            "opened_on": _day(case.opened_on, language),
            "grade": _label(Grade.label_of(case.grade), language),
            "wmt_percent": f"{case.wmt_percent} %" if case.wmt_percent is not None else "",
            "caseload": str(case.caseload) if case.caseload is not None else "",
        },
        "rep": {"name": actor.display_name, "email": actor.email},
        "union": {"name": current_app.config["UNION_NAME"], "full_name": current_app.config["UNION_FULL_NAME"]},
        "letter": {"date": _day(on, language)},
    }
    member = case.member
    if member is not None and member_agrees and may_see_identity(actor, member) and not member.is_erased:
        values["member"] = {
            "name": member.name,
            "membership_number": member.membership_number or "",
            "grade": _label(Grade.label_of(member.grade), language),
        }
    if notice is not None:
        values["notice"] = {
            "reference": notice.reference,
            "served_on": _day(notice.served_on, language) if notice.served_on else "",
            "response_due_on": _day(notice.response_due_on, language) if notice.response_due_on else "",
            "served_to_name": notice.served_to_name,
            "served_to_role": notice.served_to_role,
            "wmt_percent": f"{notice.wmt_percent} %",
        }
    return values


def draft_letter(
    actor: User,
    case: Case,
    template: LetterTemplate,
    notice_id: int | None,
    member_agrees: bool,
    language: str = "en",
) -> Draft:
    """The letter as it would be sent: every field it names filled, or refused saying why."""
    if language not in LETTER_LANGUAGES:
        raise LetterError("Choose a language from the list.", "language")
    if template.is_archived:
        raise LetterError("This template is no longer in use.", "template_id")
    notice = None
    if notice_id is not None:
        notice = db.session.scalar(
            select(ForeseeabilityNotice).where(
                ForeseeabilityNotice.id == notice_id, ForeseeabilityNotice.case_id == case.id
            )
        )
        if notice is None:
            raise LetterError("Choose one of this case's notices.", "notice_id")
    used = fields_used(template.subject) | fields_used(template.body)
    roots = {root for root, _ in used}
    if "member" in roots:
        if case.member is None:
            raise LetterError("This letter names the member, and the case has none.", "template_id")
        if not may_see_identity(actor, case.member) or case.member.is_erased:
            raise LetterError(
                "This letter names the member: only reps of their region and admins send it.", "template_id"
            )
        if not member_agrees:
            raise LetterError("This letter names the member: tick that they agree to be named in it.", "member_agrees")
    if "notice" in roots and notice is None:
        raise LetterError("This letter names a notice: choose which.", "notice_id")
    values = _values(actor, case, notice, member_agrees, clock.today(), language)
    environment = _environment()
    try:
        subject = environment.from_string(template.subject).render(values)
        body = environment.from_string(template.body).render(values)
    except (UndefinedError, SecurityError) as error:  # pragma: no cover - fields_used refuses these first
        raise LetterError(f"The template cannot be filled: {error}", "template_id") from None
    return Draft(template, notice, subject.strip() or template.name, body, language)


def letter_pdf(case: Case, draft: Draft, on: date) -> bytes:
    """The letter as a PDF: the template's words as filled, the fixed words in its language."""
    language = draft.language
    return render_pdf(
        "letters/pdf/letter.html",
        {
            "subject": draft.subject,
            "paragraphs": [p.strip() for p in draft.body.split("\n\n") if p.strip()],
            "reference": case.reference,
            "dated": document_date(on, language),
            "date_label": in_document_language(language, DATE_LABEL),
            "reference_label": in_document_language(language, REFERENCE_LABEL),
            "html_lang": "cy" if language == "cy" else "en-GB",
            "union_name": current_app.config["UNION_NAME"],
            "union_full_name": current_app.config["UNION_FULL_NAME"],
        },
    )


def send_letter(
    actor: User,
    case: Case,
    template: LetterTemplate,
    notice_id: int | None,
    member_agrees: bool,
    language: str = "en",
) -> SentLetter:
    """Freeze the letter as a PDF (its SHA-256 kept), store it encrypted, and file it on the
    case's timeline."""
    draft = draft_letter(actor, case, template, notice_id, member_agrees, language)
    today = clock.today()
    pdf = letter_pdf(case, draft, today)
    digest = hashlib.sha256(pdf).hexdigest()
    letter = SentLetter(
        case_id=case.id,
        template_id=template.id,
        notice_id=draft.notice.id if draft.notice else None,
        title=draft.subject[:200],
        pdf=pdf,
        sha256=digest,
        sent_by_id=actor.id,
    )
    db.session.add(letter)
    db.session.flush()
    add_entry(
        actor,
        case,
        kind="letter",
        happened_on=today,
        body=f"Letter sent: {draft.subject} (from the template “{template.name}”; PDF SHA-256 {digest}).",
    )
    record(actor, AuditAction.LETTER_SENT, case, template=template.id, sha256=digest, language=language)
    return letter


def letters_of(case: Case) -> list[SentLetter]:
    return list(
        db.session.scalars(select(SentLetter).where(SentLetter.case_id == case.id).order_by(SentLetter.id.desc()))
    )


def letter_for_download(actor: User, ref: str, letter_id: int) -> SentLetter:
    """A sent letter of a case the user may open (404 otherwise), its download audited."""
    case = get_case_for(actor, ref)
    letter = db.session.get(SentLetter, letter_id) if 0 < letter_id <= MAX_ID else None
    if letter is None or letter.case_id != case.id:
        abort(404)
    record(actor, AuditAction.LETTER_DOWNLOADED, case, letter=letter.id)
    return letter


# ---------------------------------------------------------------------------- anonymisation


@event.listens_for(Session, "before_flush")
def _forget_letters_of_anonymised_cases(session: Session, _context: object, _instances: object) -> None:
    """A case anonymised (by the retention schedule or an erasure) loses its sent letters with
    the rest of its free text: they may name the member. Casework sits below letters, so the
    letters follow the case's ``anonymised_on`` here rather than being named there."""
    ids = [
        case.id
        for case in session.dirty
        if isinstance(case, Case) and case.anonymised_on is not None and "anonymised_on" in _changed(case)
    ]
    if ids:
        session.execute(delete(SentLetter).where(SentLetter.case_id.in_(ids)))


def _changed(record: object) -> set[str]:
    state = inspect(record)
    return {attr.key for attr in state.attrs if attr.history.has_changes()}
