"""Demo letter templates: the four letters a rep sends most, ready to adapt."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from ..extensions import db
from .models import LetterKind, LetterTemplate
from .services import fields_used

TEMPLATES: list[tuple[str, str, str, str]] = [
    (
        "Grievance",
        LetterKind.GRIEVANCE.value,
        "Formal grievance: {{ case.title }}",
        "Dear {{ notice.served_to_name }},\n\n"
        "On behalf of {{ member.name }}, a member of {{ union.name }}, I raise a formal grievance about"
        " {{ case.category }} ({{ case.reference }}): {{ case.title }}.\n\n"
        "We ask to meet within the time the grievance procedure allows.\n\n"
        "Yours sincerely,\n{{ rep.name }}\n{{ union.full_name }}",
    ),
    (
        "Representation at a meeting",
        LetterKind.REPRESENTATION.value,
        "Representation at a meeting ({{ case.reference }})",
        "Dear manager,\n\nI will accompany and represent {{ member.name }} at the meeting about"
        " {{ case.title }}. Please send me the papers for it, and its date and time, at {{ rep.email }}.\n\n"
        "Yours sincerely,\n{{ rep.name }}, {{ union.name }}",
    ),
    (
        "Subject access request to the employer",
        LetterKind.SUBJECT_ACCESS.value,
        "Subject access request",
        "Dear data protection officer,\n\n{{ member.name }} asks, under article 15 of the UK GDPR, for a copy of"
        " the personal data you hold about them, including their workload measurement (WMT) records and any"
        " notes of meetings about their caseload. Please reply within one month of {{ letter.date }}.\n\n"
        "Yours faithfully,\n{{ rep.name }}, for {{ member.name }}",
    ),
    (
        "Foreseeability notice (naming the member and the rep)",
        LetterKind.FORESEEABILITY.value,
        "Foreseeability notice {{ notice.reference }}",
        "Dear {{ notice.served_to_name }},\n\n"
        "{{ member.name }} gives you formal notice that the workload they carry, {{ notice.wmt_percent }} of"
        " capacity by the workload management tool, makes harm to them and risk to the public foreseeable."
        " Please respond by {{ notice.response_due_on }}.\n\n"
        "{{ rep.name }} ({{ union.name }} representative) acts for them and agrees to be named here.\n\n"
        "Yours sincerely,\n{{ member.name }} and {{ rep.name }}",
    ),
]


def load(echo: Callable[[str], None]) -> None:
    """Add the demo templates that are not there yet (by name)."""
    added = 0
    for name, kind, subject, body in TEMPLATES:
        if db.session.scalar(select(LetterTemplate.id).where(LetterTemplate.name == name)) is not None:
            continue
        # The same rule as the admins' form: a template naming anything else is refused.
        fields_used(subject)
        fields_used(body)
        db.session.add(LetterTemplate(name=name, kind=kind, subject=subject, body=body))
        added += 1
    if added:
        echo(f"  {added} letter templates")
