"""Subject access (UK GDPR article 15): everything the union holds about one member, as one ZIP.

The ZIP holds ``summary.pdf`` (to read), ``data.json`` (the same, machine-readable), the
member's attachments and the letters of their notices as stored, and a README. Other
people's identities are redacted: staff appear by their role ("a rep"), the manager a notice
was served on as "[the manager]", and in free text the names of other members and of staff,
and any e-mail address or phone number that is not the member's own, are replaced. Files
(attachments, letters) are copies as stored and are not redacted: the README says to review
them, and the free text, before sending.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import gettext
from sqlalchemy import and_, or_, select

from .. import storage
from ..accounts.models import User
from ..audit.models import AuditAction, AuditEvent, record
from ..cases.models import Case, Member
from ..extensions import db
from ..kernel import clock
from ..kernel.labels import N_
from ..kernel.vocabulary import Role
from ..letters.services import letters_of
from ..notices.models import ForeseeabilityNotice, notice_members
from ..pdf import render_pdf
from ..testimonies.redaction import EMAIL, PHONE
from .models import SubjectAccessRequest

OTHER_PERSON = "[another person]"
# The ZIP's README.txt.
README = N_("""\
Subject access export from %(union)s
Made on %(made_on)s for %(pseudonym)s.

summary.pdf   everything below, to read
data.json     the same, machine-readable (UTF-8 JSON)
attachments/  the files attached to the member's cases, as stored
letters/      the foreseeability notice letters as served, and the letters sent from templates, as stored

Other people's identities are redacted in summary.pdf and data.json: staff are named by
their role, the manager a notice was served on as "[the manager]", and in free text the
names of other members and of staff, and e-mail addresses and phone numbers other than the
member's own, are replaced.

The files in attachments/ and letters/ are copies as stored and are NOT redacted. Before
sending this export, read them and the free text, and redact anything about other people
that the member is not entitled to.
""")


class Redactor:
    """Replaces, in free text, who else appears: other members' and staff names, and e-mail
    addresses and phone numbers that are not the member's own."""

    def __init__(self, member: Member) -> None:
        own = {(member.name or "").strip().lower()}
        names: set[str] = set()
        for (name,) in db.session.execute(select(Member.name).where(Member.id != member.id)):
            names.add((name or "").strip())
        for display_name, email in db.session.execute(select(User.display_name, User.email)):
            names.update({(display_name or "").strip(), (email or "").strip()})
        names = {name for name in names if len(name) >= 3 and name.lower() not in own}
        alternatives = sorted((re.escape(name) for name in names), key=len, reverse=True)
        self._names = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE) if names else None
        self._own_email = (member.email or "").lower()
        self._own_phone = re.sub(r"\D", "", member.phone or "")

    def __call__(self, text: str | None) -> str:
        if not text:
            return ""
        if self._names is not None:
            text = self._names.sub(OTHER_PERSON, text)
        text = EMAIL.sub(lambda m: m.group(0) if m.group(0).lower() == self._own_email else "[an e-mail address]", text)
        return PHONE.sub(
            lambda m: (
                m.group(0)
                if self._own_phone and re.sub(r"\D", "", m.group(0)) == self._own_phone
                else "[a phone number]"
            ),
            text,
        )


def _role(user: User | None) -> str:
    if user is None:
        return "the system"
    return {Role.REP: "a rep", Role.OFFICIAL: "a national official", Role.ADMIN: "an admin"}.get(
        Role(user.role), "a member of staff"
    )


def _day(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def collect(member: Member) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The member's data as plain values, and the files to go beside it (path in the ZIP → bytes)."""
    redact = Redactor(member)
    files: dict[str, bytes] = {}
    cases = list(db.session.scalars(select(Case).where(Case.member_id == member.id).order_by(Case.reference)))
    named = select(notice_members.c.notice_id).where(notice_members.c.member_id == member.id)
    notices = list(
        db.session.scalars(
            select(ForeseeabilityNotice)
            .where(or_(ForeseeabilityNotice.member_id == member.id, ForeseeabilityNotice.id.in_(named)))
            .order_by(ForeseeabilityNotice.reference)
        )
    )
    data: dict[str, Any] = {
        "made_on": clock.today().isoformat(),
        "controller": current_app.config["UNION_FULL_NAME"],
        "member": {
            "pseudonym": member.pseudonym,
            "name": member.name,
            "membership_number": member.membership_number,
            "email": member.email,
            "phone": member.phone,
            "grade": member.grade_label if member.grade else None,
            "region": member.region.name,
            "unit": member.unit.name if member.unit else None,
            "recorded_on": _day(member.created_at),
            "erased_on": _day(member.erased_on),
        },
        "cases": [_case(case, redact, files) for case in cases],
        "notices": [_notice(notice, member, redact, files) for notice in notices],
        "access_requests": [
            {
                "reference": request.reference,
                "received_on": _day(request.received_on),
                "due_on": _day(request.due_on),
                "status": request.status_label,
                "answered_on": _day(request.answered_on),
            }
            for request in db.session.scalars(
                select(SubjectAccessRequest)
                .where(SubjectAccessRequest.member_id == member.id)
                .order_by(SubjectAccessRequest.received_on)
            )
        ],
    }
    data["audit"] = _audit(member, cases, notices, redact)
    return data, files


def _case(case: Case, redact: Redactor, files: dict[str, bytes]) -> dict[str, Any]:
    attachments = []
    for attachment in case.attachments:
        path = f"attachments/{case.reference}/{attachment.id}-{attachment.original_name}"
        try:
            files[path] = storage.read(attachment.stored_name)
        except (OSError, ValueError):
            path = ""  # listed, but its file is missing from the store
        attachments.append(
            {
                "file": path or None,
                "name": attachment.original_name,
                "content_type": attachment.content_type,
                "size_bytes": attachment.size_bytes,
                "sha256": attachment.sha256,
                "uploaded_on": _day(attachment.uploaded_at),
                "uploaded_by": _role(attachment.uploaded_by),
            }
        )
    return {
        "reference": case.reference,
        "category": case.category_label,
        "title": redact(case.title),
        "description": redact(case.description),
        "grade": case.grade_label if case.grade else None,
        "wmt_percent": case.wmt_percent,
        "caseload": case.caseload,
        "risks": case.risk_labels,
        "priority": case.priority_label,
        "status": case.status_label,
        "opened_on": _day(case.opened_on),
        "resolved_on": _day(case.resolved_on),
        "closed_on": _day(case.closed_on),
        "outcome": redact(case.outcome),
        "next_action": redact(case.next_action),
        "next_action_on": _day(case.next_action_on),
        "evidence_consent": case.has_evidence_consent,
        "assigned_to": _role(case.assigned_rep) if case.assigned_rep_id else None,
        "anonymised_on": _day(case.anonymised_on),
        "timeline": [
            {
                "on": _day(entry.happened_on),
                "kind": entry.kind_label,
                "by": _role(entry.author),
                "text": redact(entry.body),
            }
            for entry in sorted(case.entries, key=lambda e: (e.happened_on, e.id))
        ],
        "attachments": attachments,
        "letters": _sent_letters(case, redact, files),
    }


def _sent_letters(case: Case, redact: Redactor, files: dict[str, bytes]) -> list[dict[str, Any]]:
    """The letters sent from templates about the case, as sent (copies, not redacted)."""
    found = []
    for letter in letters_of(case):
        path = f"letters/{case.reference}-{letter.id}.pdf"
        files[path] = letter.pdf
        found.append(
            {"file": path, "title": redact(letter.title), "sha256": letter.sha256, "sent_on": _day(letter.sent_at)}
        )
    return found


def _notice(notice: ForeseeabilityNotice, member: Member, redact: Redactor, files: dict[str, bytes]) -> dict[str, Any]:
    letter = None
    if notice.letter_pdf:
        letter = f"letters/{notice.reference}.pdf"
        files[letter] = notice.letter_pdf
    return {
        "reference": notice.reference,
        "kind": notice.kind_label,
        "yours_alone": notice.member_id == member.id,
        "other_members_named": len([m for m in notice.named_members if m.id != member.id]),
        "signatory_count": notice.signatory_count,
        "status": notice.status_label,
        "region": notice.region.name,
        "unit": notice.unit.name if notice.unit else None,
        "served_on": _day(notice.served_on),
        "served_to": "[the manager]" if notice.served_to_name else None,
        "served_to_role": notice.served_to_role,
        "wmt_percent": str(notice.wmt_percent) if notice.wmt_percent is not None else None,
        "caseload": notice.caseload,
        "concerns": notice.concern_labels,
        "concerns_detail": redact(notice.concerns_detail),
        "letter_wording": redact(notice.letter_wording),
        "response_due_on": _day(notice.response_due_on),
        "response_received_on": _day(notice.response_received_on),
        "response_summary": redact(notice.response_summary),
        "outcome": notice.outcome_label,
        "letter": letter,
        "letter_sha256": notice.letter_sha256,
        "anonymised_on": _day(notice.anonymised_on),
    }


def _audit(
    member: Member, cases: list[Case], notices: list[ForeseeabilityNotice], redact: Redactor
) -> list[dict[str, Any]]:
    """Audit entries about the member, their cases and their notices: who by role, what, when."""
    about = [and_(AuditEvent.target_type == "members", AuditEvent.target_ref == member.pseudonym)]
    if cases:
        about.append(and_(AuditEvent.target_type == "cases", AuditEvent.target_ref.in_([c.reference for c in cases])))
    if notices:
        refs = [n.reference for n in notices]
        about.append(and_(AuditEvent.target_type == "foreseeability_notices", AuditEvent.target_ref.in_(refs)))
    events = db.session.scalars(select(AuditEvent).where(or_(*about)).order_by(AuditEvent.occurred_at, AuditEvent.id))
    users = {user.id: user for user in db.session.scalars(select(User))}
    return [
        {
            "at": event.occurred_at.isoformat(timespec="seconds"),
            "by": "the system" if event.actor_id is None else _role(users.get(event.actor_id)),
            "action": event.action,
            "record": event.target_ref,
            "details": redact(json.dumps(event.details, sort_keys=True, default=str)) if event.details else "",
        }
        for event in events
    ]


def build_export(actor: User | None, member: Member) -> bytes:
    """The member's subject access export as ZIP bytes; making it is audited."""
    data, files = collect(member)
    pdf = render_pdf("privacy/pdf/export.html", {"data": data, "union_name": current_app.config["UNION_NAME"]})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            gettext(README, union=data["controller"], made_on=data["made_on"], pseudonym=member.pseudonym),
        )
        archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
        archive.writestr("summary.pdf", pdf)
        for path, content in sorted(files.items()):
            archive.writestr(path, content)
    record(
        actor,
        AuditAction.MEMBER_EXPORTED,
        ("members", member.pseudonym),
        cases=len(data["cases"]),
        notices=len(data["notices"]),
        files=len(files),
    )
    return buffer.getvalue()
