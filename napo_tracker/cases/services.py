"""Casework rules: who sees a member, how a case moves, what a list shows.

Every function that changes something takes the acting user, flushes, writes its audit
entry and leaves the commit to the transaction boundary (the request, a command, a test).
A refused change raises a ``CaseError``; an edit made from an old copy of a case raises
an ``EditConflict`` that says what changed meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from flask import abort
from flask_babel import gettext
from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import joinedload

from .. import crypto, storage, uploads
from ..accounts.models import User, user_regions
from ..audit.models import AuditAction, record
from ..csvexport import check_export_size, rows_in, streamed
from ..extensions import db
from ..kernel import clock
from ..kernel.clock import utcnow
from ..kernel.errors import Change, ConflictError, DomainError, check_version
from ..kernel.ids import MAX_ID
from ..kernel.labels import N_
from ..kernel.vocabulary import Grade, Role
from ..notifications.models import NotificationKind
from ..notifications.services import notify
from ..references import insert_with_reference, next_numbered_reference
from ..regions.models import Region, Unit
from ..regions.scoping import can_access_region, get_for_user_or_404, region_ids_for, scope_to_regions
from .models import (
    LIVE_STATUSES,
    MANUAL_ENTRY_KINDS,
    RISK_FLAGS,
    Case,
    CaseAttachment,
    CaseCategory,
    CaseEntry,
    CasePriority,
    CaseStatus,
    EntryKind,
    Member,
)

WMT_MAX = 400  # per cent of capacity; the seeds' worst report is 192 % on average
CASELOAD_MAX = 500
EARLIEST_DATE = date(2000, 1, 1)
PAGE_SIZE = 25


class CaseError(DomainError):
    """A change that breaks a casework rule; the message is shown next to ``field``."""


class IdentityHidden(CaseError):
    """Only those who may see a member's identity may change it."""

    status_code = 403


class EditConflict(ConflictError):
    """Someone saved the case after this form was opened; ``changes`` says what differs."""


def latest_allowed_date() -> date:
    """The last date a next action or a search may name: the end of the fifth year from now."""
    return date(clock.today().year + 5, 12, 31)


# ---------------------------------------------------------------- the status machine

# The one definition of how a case may move. A closed case is reopened, and from there
# goes on like an open one.
TRANSITIONS: dict[CaseStatus, tuple[CaseStatus, ...]] = {
    CaseStatus.OPEN: (CaseStatus.IN_PROGRESS, CaseStatus.ESCALATED, CaseStatus.RESOLVED),
    CaseStatus.IN_PROGRESS: (CaseStatus.ESCALATED, CaseStatus.RESOLVED),
    CaseStatus.ESCALATED: (CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED),
    CaseStatus.RESOLVED: (CaseStatus.CLOSED, CaseStatus.REOPENED),
    CaseStatus.CLOSED: (CaseStatus.REOPENED,),
    CaseStatus.REOPENED: (CaseStatus.IN_PROGRESS, CaseStatus.ESCALATED, CaseStatus.RESOLVED),
}


def allowed_transitions(status: str) -> tuple[CaseStatus, ...]:
    return TRANSITIONS.get(CaseStatus(status), ())


def check_transition(current: str, new: str, outcome: str | None = None, *, require_outcome: bool = True) -> None:
    """Refuse a move the machine does not allow, and (unless told not to) a resolve without an outcome."""
    try:
        target = CaseStatus(new)
    except ValueError:
        raise CaseError(f"{new!r} is not a case status.", "status") from None
    allowed = allowed_transitions(current)
    if target not in allowed:
        choices = ", ".join(s.label.lower() for s in allowed) or "nothing else"
        raise CaseError(
            f"A case that is {CaseStatus(current).label.lower()} cannot move to {target.label.lower()}. "
            f"It can move to: {choices}.",
            "status",
        )
    if require_outcome and target is CaseStatus.RESOLVED and not (outcome or "").strip():
        raise CaseError("Say what the outcome was before marking the case resolved.", "outcome")


# ---------------------------------------------------------------- who sees what


def may_see_identity(user: User, member: Member | None = None, region_id: int | None = None) -> bool:
    """Identifying fields: admins, and reps of the member's region. Officials see the pseudonym."""
    if user.is_admin:
        return True
    if not user.is_rep:
        return False
    region_id = member.region_id if member is not None else region_id
    return region_id is not None and region_id in (region_ids_for(user) or set())


def get_case_for(user: User, ref: str) -> Case:
    """The case with this reference within the user's regions, or 404 (out of region = missing)."""
    return get_for_user_or_404(user, Case, Case.reference == ref)


def get_member_for(user: User, member_id: int) -> Member:
    """The member within the user's regions, or 404 (out of region = missing).

    The id may come from a query string, past what the URL converter checks: one no
    database integer can hold is missing too, not an overflow error.
    """
    if not 0 < member_id <= MAX_ID:
        abort(404)
    return get_for_user_or_404(user, Member, Member.id == member_id)


def record_identity_viewed(actor: User, member: Member, context: str) -> None:
    """Seeing a member's name, number, e-mail or phone leaves a trace."""
    record(actor, AuditAction.MEMBER_VIEWED, ("members", member.pseudonym), context=context)


def view_case(user: User, ref: str) -> Case:
    """Open a case's page: within the user's regions (404 otherwise), and every view audited."""
    case = get_case_for(user, ref)
    record(user, AuditAction.CASE_VIEWED, case)
    return case


def view_member(user: User, member_id: int) -> tuple[Member, bool]:
    """Open a member's page: the member, and whether this user sees who they are. Every view is
    audited, as a view of personal data when the identity is shown."""
    member = get_member_for(user, member_id)
    shows_identity = may_see_identity(user, member) and not member.is_erased
    if shows_identity:
        record_identity_viewed(user, member, "member page")
    else:
        record(user, AuditAction.MEMBER_PAGE_VIEWED, ("members", member.pseudonym))
    return member, shows_identity


# ---------------------------------------------------------------- choices in scope


def members_in_scope(user: User) -> list[Member]:
    """Members of the user's regions, their unit and region loaded in the same statement."""
    stmt = scope_to_regions(
        select(Member).options(joinedload(Member.unit), joinedload(Member.region)).order_by(Member.id),
        Member.region_id,
        user,
    )
    return list(db.session.scalars(stmt))


def members_with_case_counts(user: User) -> list[tuple[Member, int]]:
    """The members list: one statement, however many members and cases."""
    stmt = (
        select(Member, func.count(Case.id))
        .outerjoin(Case, Case.member_id == Member.id)
        .options(joinedload(Member.unit), joinedload(Member.region))
        .group_by(Member.id)
        .order_by(Member.id)
    )
    stmt = scope_to_regions(stmt, Member.region_id, user)
    return [(member, count) for member, count in db.session.execute(stmt).unique()]


MEMBERS_PAGE_SIZE = 50
_PSEUDONYM = re.compile(r"^(?:member\s+)?m-?0*(\d{1,9})$", re.IGNORECASE)


def member_list_query(user: User, q: str | None = None, region_id: int | None = None) -> Select:
    """The members list, in the user's regions, newest first: ``q`` finds a pseudonym
    ("M-0042"), a membership number (exactly, through its keyed hash) or, among the members
    whose identity the user may see (``may_see_identity``), text in a name. Names are encrypted,
    so those are read and decrypted here, as the case search does with descriptions."""
    stmt = scope_to_regions(
        select(Member).options(joinedload(Member.unit), joinedload(Member.region)), Member.region_id, user
    ).order_by(Member.id.desc())
    if region_id:
        stmt = stmt.where(Member.region_id == region_id)
    q = (q or "").strip()
    if not q:
        return stmt
    found: list[ColumnElement[bool]] = [Member.membership_number_hash.in_(crypto.keyed_hashes(q))]
    if match := _PSEUDONYM.match(q):
        found.append(Member.id == int(match.group(1)))
    if user.is_admin or user.is_rep:
        # Reps see identities in their own regions only: the names read are theirs.
        names = select(Member.id, type_coerce(Member.name, Text())).where(Member.erased_on.is_(None))
        names = scope_to_regions(names, Member.region_id, user)
        if region_id:
            names = names.where(Member.region_id == region_id)
        rows = db.session.execute(names).all()
        needle = q.casefold()
        texts = crypto.decrypt_texts(token for _, token in rows)
        matching = [row[0] for row, text in zip(rows, texts, strict=True) if needle in text.casefold()]
        found.append(Member.id.in_(bindparam("matching_members", matching, expanding=True, literal_execute=True)))
    return stmt.where(or_(*found))


def case_counts(member_ids: Sequence[int]) -> dict[int, int]:
    """How many cases each of these members has (one statement for a page of them)."""
    if not member_ids:
        return {}
    stmt = select(Case.member_id, func.count(Case.id)).where(Case.member_id.in_(member_ids)).group_by(Case.member_id)
    return {member_id: count for member_id, count in db.session.execute(stmt) if member_id is not None}


def rep_covers(rep_id: int, region_id: int) -> bool:
    """An active rep of that region: the only person a case there may be assigned to."""
    stmt = (
        select(user_regions.c.user_id)
        .join(User, User.id == user_regions.c.user_id)
        .where(
            user_regions.c.user_id == rep_id,
            user_regions.c.region_id == region_id,
            User.role == Role.REP.value,
            User.is_active.is_(True),
        )
    )
    return db.session.scalar(stmt) is not None


# ---------------------------------------------------------------- members


def member_with_number(membership_number: str, *, other_than: int | None = None) -> Member | None:
    """The member with this membership number (case and spacing aside), whatever their region.

    The number is stored encrypted: the lookup goes through its keyed hash, under every data
    key, so members written before the newest key was added are found until a rotation.
    """
    stmt = select(Member).where(Member.membership_number_hash.in_(crypto.keyed_hashes(membership_number)))
    if other_than is not None:
        stmt = stmt.where(Member.id != other_than)
    return db.session.scalars(stmt).first()


def create_member(
    actor: User,
    *,
    region_id: int,
    unit_id: int | None,
    name: str,
    membership_number: str | None,
    email: str | None,
    phone: str | None,
    grade: str | None,
) -> Member:
    """A member of one of the actor's regions, recorded by a rep of it or an admin (officials see
    members by pseudonym only, so they do not record identities either); membership numbers are unique."""
    _check_place(actor, region_id, unit_id)
    if not may_see_identity(actor, region_id=region_id):
        raise IdentityHidden("Only reps of the member's region and admins record a member's details.")
    if grade and not Grade.has_value(grade):
        raise CaseError("Choose a grade from the list.", "grade")
    membership_number = (membership_number or "").strip() or None
    if membership_number and member_with_number(membership_number) is not None:
        raise CaseError("A member with this membership number is already recorded.", "membership_number")
    member = Member(
        region_id=region_id,
        unit_id=unit_id,
        name=name.strip(),
        membership_number=membership_number,
        email=(email or "").strip().lower() or None,
        phone=(phone or "").strip() or None,
        grade=grade or None,
    )
    db.session.add(member)
    db.session.flush()
    record(actor, AuditAction.MEMBER_CREATED, ("members", member.pseudonym), region_id=region_id)
    return member


def update_member(
    actor: User,
    member: Member,
    *,
    unit_id: int | None,
    name: str,
    membership_number: str | None,
    email: str | None,
    phone: str | None,
    grade: str | None,
) -> list[str]:
    """Correct a member's details; only those who may see them may change them. The region stays."""
    if not may_see_identity(actor, member):
        raise IdentityHidden("Only reps of the member's region and admins change a member's details.")
    if member.is_erased:
        raise CaseError(f"{member.pseudonym} was erased on {member.erased_on:%-d %B %Y}; nothing about them is kept.")
    _check_place(actor, member.region_id, unit_id)
    if grade and not Grade.has_value(grade):
        raise CaseError("Choose a grade from the list.", "grade")
    membership_number = (membership_number or "").strip() or None
    if membership_number and member_with_number(membership_number, other_than=member.id) is not None:
        raise CaseError("A member with this membership number is already recorded.", "membership_number")
    values = {
        "unit_id": unit_id,
        "name": name.strip(),
        "membership_number": membership_number,
        "email": (email or "").strip().lower() or None,
        "phone": (phone or "").strip() or None,
        "grade": grade or None,
    }
    changed = [field for field, value in values.items() if getattr(member, field) != value]
    for field in changed:
        setattr(member, field, values[field])
    if changed:
        db.session.flush()
        # Field names only: the audit log never holds the personal data itself.
        record(actor, AuditAction.MEMBER_CHANGED, ("members", member.pseudonym), fields=changed)
    return changed


# ---------------------------------------------------------------- cases

CASE_FIELDS: dict[str, str] = {
    "region_id": N_("Region"),
    "unit_id": N_("Unit"),
    "member_id": N_("Member"),
    "category": N_("Category"),
    "title": N_("Title"),
    "description": N_("Description"),
    "grade": N_("Grade"),
    "wmt_percent": N_("WMT %"),
    "caseload": N_("Caseload"),
    **RISK_FLAGS,
    "priority": N_("Priority"),
    "assigned_rep_id": N_("Assigned rep"),
    "next_action": N_("Next action"),
    "next_action_on": N_("Next action due"),
    "has_evidence_consent": N_("Consent to use the facts as evidence"),
}


def _check_place(actor: User, region_id: int | None, unit_id: int | None) -> None:
    if region_id is None or db.session.get(Region, region_id) is None or not can_access_region(actor, region_id):
        raise CaseError("Choose one of your regions.", "region_id")
    if unit_id is not None:
        unit = db.session.get(Unit, unit_id)
        if unit is None or unit.region_id != region_id:
            raise CaseError("Choose a unit in the case's region.", "unit_id")


def _check_case_fields(actor: User, fields: dict[str, Any]) -> None:
    """The rules every save of a case meets, whichever path it comes by."""
    _check_place(actor, fields["region_id"], fields.get("unit_id"))
    if not CaseCategory.has_value(fields["category"]):
        raise CaseError("Choose a category from the list.", "category")
    if not CasePriority.has_value(fields.get("priority", CasePriority.NORMAL)):
        raise CaseError("Choose a priority from the list.", "priority")
    if fields.get("grade") and not Grade.has_value(fields["grade"]):
        raise CaseError("Choose a grade from the list.", "grade")
    wmt = fields.get("wmt_percent")
    if wmt is not None and not 0 <= wmt <= WMT_MAX:
        raise CaseError(f"WMT must be between 0 and {WMT_MAX} %.", "wmt_percent")
    caseload = fields.get("caseload")
    if caseload is not None and not 0 <= caseload <= CASELOAD_MAX:
        raise CaseError(f"Caseload must be between 0 and {CASELOAD_MAX}.", "caseload")
    member_id = fields.get("member_id")
    if member_id is not None:
        member = db.session.get(Member, member_id)
        if member is None or member.region_id != fields["region_id"]:
            raise CaseError("Choose a member of the case's region.", "member_id")
    rep_id = fields.get("assigned_rep_id")
    if rep_id is not None and not rep_covers(rep_id, fields["region_id"]):
        raise CaseError("Assign the case to a rep of its own region.", "assigned_rep_id")
    due = fields.get("next_action_on")
    if due is not None and not EARLIEST_DATE <= due <= latest_allowed_date():
        raise CaseError("Give a next-action date between 2000 and five years from now.", "next_action_on")


def _display(name: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "region_id":
        region = db.session.get(Region, value)
        return region.name if region else str(value)
    if name == "unit_id":
        unit = db.session.get(Unit, value)
        return unit.name if unit else str(value)
    if name == "member_id":
        return f"Member M-{value:04d}"
    if name == "assigned_rep_id":
        user = db.session.get(User, value)
        return user.display_name if user else str(value)
    if name == "category":
        return CaseCategory.label_of(value)
    if name == "priority":
        return CasePriority.label_of(value)
    if name == "grade":
        return Grade.label_of(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _add_entry(
    case: Case, actor: User | None, kind: EntryKind, body: str, happened_on: date | None = None
) -> CaseEntry:
    entry = CaseEntry(
        case=case,
        kind=kind.value,
        body=body,
        happened_on=happened_on or clock.today(),
        author_id=actor.id if actor is not None else None,
    )
    db.session.add(entry)
    return entry


def create_case(actor: User, **fields: Any) -> Case:
    """Log a case in one of the actor's regions, numbered CASE-<year>-<nnnn>."""
    fields.setdefault("priority", CasePriority.NORMAL.value)
    _check_case_fields(actor, fields)
    unknown = set(fields) - set(CASE_FIELDS) - {"opened_on"}
    if unknown:
        raise TypeError(f"unknown case fields: {sorted(unknown)}")
    opened_on = fields.pop("opened_on", None) or clock.today()
    prefix = f"CASE-{opened_on.year}-"

    def build(reference: str) -> Case:
        return Case(
            reference=reference,
            opened_on=opened_on,
            status=CaseStatus.OPEN.value,
            created_by_id=actor.id,
            updated_by_id=actor.id,
            **fields,
        )

    case = insert_with_reference(Case.reference, lambda: next_numbered_reference(Case.reference, prefix), build)
    _add_entry(case, actor, EntryKind.STATUS, "Case opened.", opened_on)
    if case.assigned_rep_id is not None:
        _add_entry(
            case,
            actor,
            EntryKind.ASSIGNMENT,
            f"Assigned to {_display('assigned_rep_id', case.assigned_rep_id)}.",
            opened_on,
        )
    db.session.flush()
    record(actor, AuditAction.CASE_CREATED, case, region_id=case.region_id, category=case.category)
    _tell_assigned(actor, case)
    return case


def _tell_assigned(actor: User, case: Case) -> None:
    """The rep a case is given to is told (not when they gave it to themselves)."""
    if case.assigned_rep_id is None or case.assigned_rep_id == actor.id:
        return
    notify(
        db.session.get(User, case.assigned_rep_id),
        NotificationKind.CASE_ASSIGNED,
        gettext("Case %(ref)s has been assigned to you.", ref=case.reference),
        reference=case.reference,
        url=f"/cases/{case.reference}",
    )


def add_timeline_entry(
    case: Case, actor: User | None, kind: EntryKind, body: str, happened_on: date | None = None
) -> None:
    """A line the app writes on a case's timeline for another domain (a notice escalated)."""
    _add_entry(case, actor, kind, body, happened_on)
    db.session.flush()


def differences(case: Case, fields: dict[str, Any]) -> list[Change]:
    """The fields whose saved value differs from ``fields``, each shown as people read it."""
    return [
        Change(name, gettext(CASE_FIELDS[name]), _display(name, getattr(case, name)), _display(name, value))
        for name, value in fields.items()
        if name in CASE_FIELDS and getattr(case, name) != value
    ]


def update_case(actor: User, case: Case, *, expected_version: int | None, **fields: Any) -> list[str]:
    """Save an edit made from version ``expected_version``; refuse it if the case moved on since.

    Returns the names of the fields that changed. A change of assigned rep writes its
    own timeline entry.
    """
    unknown = set(fields) - set(CASE_FIELDS)
    if unknown:
        raise TypeError(f"unknown case fields: {sorted(unknown)}")
    _check_not_anonymised(case)
    check_version(case, expected_version, conflict=EditConflict, changes=lambda: differences(case, fields))
    merged = {name: getattr(case, name) for name in CASE_FIELDS} | fields
    _check_case_fields(actor, merged)
    changed = [c.field for c in differences(case, fields)]
    if not changed:
        return []
    old_rep = case.assigned_rep_id
    for name in changed:
        setattr(case, name, fields[name])
    case.updated_at = utcnow()
    case.updated_by_id = actor.id
    if "assigned_rep_id" in changed:
        text = (
            f"Assigned to {_display('assigned_rep_id', case.assigned_rep_id)}."
            if case.assigned_rep_id
            else "No rep assigned any more."
        )
        if old_rep:
            text += f" (Was {_display('assigned_rep_id', old_rep)}.)"
        _add_entry(case, actor, EntryKind.ASSIGNMENT, text)
        record(actor, AuditAction.CASE_ASSIGNED, case, assigned_rep_id=case.assigned_rep_id)
        _tell_assigned(actor, case)
    db.session.flush()
    record(actor, AuditAction.CASE_CHANGED, case, fields=changed)
    return changed


def change_status(
    actor: User, case: Case, new_status: str, *, outcome: str | None = None, note: str | None = None
) -> Case:
    """Move a case along the status machine; resolving needs an outcome."""
    _check_not_anonymised(case)
    check_transition(case.status, new_status, outcome)
    old = case.status
    target = CaseStatus(new_status)
    case.status = target.value
    if target is CaseStatus.RESOLVED:
        case.outcome = outcome.strip() if outcome else None
        case.resolved_on = clock.today()
    elif target is CaseStatus.CLOSED:
        case.closed_on = clock.today()
    elif target is CaseStatus.REOPENED:
        case.closed_on = None
        case.resolved_on = None
    case.updated_at = utcnow()
    case.updated_by_id = actor.id
    text = f"Status changed from {CaseStatus(old).label.lower()} to {target.label.lower()}."
    if target is CaseStatus.RESOLVED:
        text += f" Outcome: {case.outcome}"
    if note and note.strip():
        text += f"\n{note.strip()}"
    _add_entry(case, actor, EntryKind.STATUS, text)
    db.session.flush()
    record(actor, AuditAction.CASE_STATUS_CHANGED, case, old=old, new=target.value)
    return case


def add_entry(actor: User, case: Case, *, kind: str, happened_on: date, body: str) -> CaseEntry:
    """A note, meeting, letter or call; status and assignment entries are written by the services."""
    _check_not_anonymised(case)
    try:
        entry_kind = EntryKind(kind)
    except ValueError:
        raise CaseError("Choose what kind of entry this is.", "kind") from None
    if entry_kind not in MANUAL_ENTRY_KINDS:
        raise CaseError("Choose what kind of entry this is.", "kind")
    if not EARLIEST_DATE <= happened_on <= clock.today():
        raise CaseError("Give a date between 2000 and today.", "happened_on")
    if not body.strip():
        raise CaseError("Write what happened.", "body")
    # The case row itself is not touched: a note never makes someone's open edit form stale.
    entry = _add_entry(case, actor, entry_kind, body.strip(), happened_on)
    db.session.flush()
    record(actor, AuditAction.CASE_NOTE_ADDED, case, kind=entry_kind.value)
    return entry


def add_attachment(actor: User, case: Case, *, filename: str | None, data: bytes) -> CaseAttachment:
    """Store an upload checked by its content, within bounds, and cleaned of its metadata first
    (``uploads.check_and_clean``); a refusal is a message next to the file field."""
    _check_not_anonymised(case)
    try:
        checked = uploads.check_and_clean(data, filename)
    except uploads.UploadRefused as refused:
        raise CaseError(str(refused), "file") from None
    kind, name = checked.kind, checked.filename
    # The file belongs to this transaction: if it rolls back, the store removes the file.
    stored = storage.save(checked.data)
    attachment = CaseAttachment(
        case=case,
        stored_name=stored.stored_name,
        original_name=name,
        content_type=kind.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        uploaded_by_id=actor.id,
    )
    db.session.add(attachment)
    _add_entry(case, actor, EntryKind.ATTACHMENT, f"Attached {name}.")
    db.session.flush()
    record(
        actor,
        AuditAction.CASE_ATTACHMENT_ADDED,
        case,
        attachment_id=attachment.id,
        content_type=kind.content_type,
        size_bytes=stored.size_bytes,
    )
    return attachment


def delete_attachment(actor: User, case: Case, attachment: CaseAttachment) -> None:
    """Remove an attachment's record now and its file once that removal is committed.

    A rollback keeps the record, so it must keep the bytes too.
    """
    if attachment.case_id != case.id:
        raise CaseError("That file belongs to another case.", "file")
    name = attachment.original_name
    db.session.delete(attachment)
    storage.delete_after_commit(attachment.stored_name)
    _add_entry(case, actor, EntryKind.ATTACHMENT, f"Removed {name}.")
    db.session.flush()
    record(actor, AuditAction.CASE_ATTACHMENT_DELETED, case, attachment_id=attachment.id)


def get_attachment(case: Case, attachment_id: int) -> CaseAttachment:
    attachment = db.session.scalar(
        select(CaseAttachment).where(CaseAttachment.id == attachment_id, CaseAttachment.case_id == case.id)
    )
    if attachment is None:
        abort(404)
    return attachment


def record_download(actor: User, case: Case, attachment: CaseAttachment) -> None:
    record(actor, AuditAction.CASE_ATTACHMENT_DOWNLOADED, case, attachment_id=attachment.id)


# ---------------------------------------------------------------- anonymising and erasing

ANONYMISED_TITLE = "Anonymised case"


def _check_not_anonymised(case: Case) -> None:
    if case.anonymised_on is not None:
        raise CaseError(
            f"{case.reference} was anonymised on {case.anonymised_on:%-d %B %Y}: only its facts are kept, "
            "and it can no longer be changed."
        )


def anonymise_case(actor: User | None, case: Case, *, reason: str) -> int:
    """Keep a case as facts only, so that regional figures stay true: its category, region, unit,
    grade, WMT %, caseload, risk flags, status and dates stay; its title, description, outcome,
    next action, every timeline entry's text, its attachments and its link to the member go.
    Files are removed once the transaction commits. Returns how many files will go."""
    files = list(case.attachments)
    for attachment in files:
        storage.delete_after_commit(attachment.stored_name)
    case.attachments.clear()
    for entry in case.entries:
        entry.body = ""
    case.title = ANONYMISED_TITLE
    case.description = ""
    case.outcome = None
    case.next_action = None
    case.next_action_on = None
    case.member_id = None
    case.anonymised_on = clock.today()
    db.session.flush()
    record(actor, AuditAction.CASE_ANONYMISED, case, reason=reason, attachments=len(files))
    return len(files)


def wipe_member(member: Member) -> None:
    """Wipe the identifying fields of a member's record; the row, pseudonym, region, unit and
    grade stay (the caller audits why)."""
    member.name = ""
    member.membership_number = None
    member.email = None
    member.phone = None
    member.erased_on = clock.today()
    db.session.flush()


# ---------------------------------------------------------------- lists

LIST_VIEWS = {"all": N_("All cases in my regions"), "mine": N_("My cases"), "overdue": N_("Overdue next actions")}

# Sortable columns: the only names a ?sort= may use.
SORTS: dict[str, Any] = {
    "reference": Case.reference,
    "title": Case.title,
    "category": Case.category,
    "status": Case.status,
    "wmt_percent": Case.wmt_percent,
    "opened_on": Case.opened_on,
    "next_action_on": Case.next_action_on,
    "updated_at": Case.updated_at,
}
NULLABLE_SORTS = frozenset({"wmt_percent", "next_action_on"})
DEFAULT_SORT = ("updated_at", "desc")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def case_list_query(
    user: User,
    *,
    view: str = "all",
    filters: dict[str, Any] | None = None,
    sort: str | None = None,
    direction: str | None = None,
    today: date | None = None,
) -> Select:
    """The cases a list page shows, in the user's regions; one statement, related rows joined.

    A search (``q``) matches the reference, or text in the title or the description. The
    description is stored encrypted, so the database cannot look inside it: the descriptions
    of the cases every other filter leaves (and whose title does not already match) are read
    and searched here, and the statement names the ones that match.
    """
    filters = filters or {}
    today = today or clock.today()
    conditions: list[Any] = []
    if view == "mine":
        conditions.append(Case.assigned_rep_id == user.id)
    elif view == "overdue":
        conditions += [Case.next_action_on < today, Case.status.in_([s.value for s in LIVE_STATUSES])]
    if filters.get("region_id"):
        conditions.append(Case.region_id == filters["region_id"])
    if filters.get("unit_id"):
        conditions.append(Case.unit_id == filters["unit_id"])
    if filters.get("status"):
        conditions.append(Case.status == filters["status"])
    if filters.get("category"):
        conditions.append(Case.category == filters["category"])
    if filters.get("risk") in RISK_FLAGS:
        conditions.append(getattr(Case, filters["risk"]).is_(True))
    if filters.get("assigned_rep_id"):
        conditions.append(Case.assigned_rep_id == filters["assigned_rep_id"])
    if filters.get("opened_from"):
        conditions.append(Case.opened_on >= filters["opened_from"])
    if filters.get("opened_to"):
        conditions.append(Case.opened_on <= filters["opened_to"])
    if filters.get("q"):
        conditions.append(_search_condition(user, conditions, filters["q"]))
    stmt = select(Case).options(joinedload(Case.region), joinedload(Case.unit), joinedload(Case.assigned_rep))
    stmt = scope_to_regions(stmt, Case.region_id, user).where(*conditions)
    column = SORTS.get(sort or "", SORTS[DEFAULT_SORT[0]])
    descending = (direction or (DEFAULT_SORT[1] if sort not in SORTS else "asc")) == "desc"
    order = [column.desc() if descending else column.asc(), Case.id.desc()]
    if sort in NULLABLE_SORTS:
        order.insert(0, column.is_(None).asc())  # blanks last whichever way, on both databases
    return stmt.order_by(*order)


def _search_condition(user: User, conditions: list[Any], q: str) -> Any:
    """Reference or title in SQL; the encrypted descriptions of the remaining candidates here."""
    in_clear = or_(Case.title.ilike(_like(q), escape="\\"), Case.reference == q.upper())
    stored = type_coerce(Case.description, Text())  # the tokens as stored, decrypted below in one go
    candidates = scope_to_regions(select(Case.id, stored), Case.region_id, user).where(*conditions, ~in_clear)
    rows = db.session.execute(candidates).all()
    descriptions = crypto.decrypt_texts(token for _, token in rows)
    needle = q.casefold()
    matching = [row[0] for row, text in zip(rows, descriptions, strict=True) if needle in text.casefold()]
    # Written into the statement as numbers: a long list would pass the databases' limit on parameters.
    return or_(in_clear, Case.id.in_(bindparam("matching_ids", matching, expanding=True, literal_execute=True)))


# ---------------------------------------------------------------- figures


def case_figures(user: User, region_id: int | None = None) -> list[dict[str, Any]]:
    """Cases by category and status in the user's regions (one grouped query), biggest first by live cases."""
    stmt = select(Case.category, Case.status, func.count(Case.id)).group_by(Case.category, Case.status)
    stmt = scope_to_regions(stmt, Case.region_id, user)
    if region_id:
        stmt = stmt.where(Case.region_id == region_id)
    rows: dict[str, dict[str, Any]] = {}
    for category, status, count in db.session.execute(stmt):
        row = rows.setdefault(
            category,
            {
                "category": category,
                "label": CaseCategory.label_of(category),
                "by_status": {s.value: 0 for s in CaseStatus},
                "live": 0,
                "total": 0,
            },
        )
        row["by_status"][status] = count
        row["total"] += count
        if status in LIVE_STATUSES:
            row["live"] += count
    return sorted(rows.values(), key=lambda row: (-row["live"], -row["total"], row["label"]))


# ---------------------------------------------------------------- export


@dataclass(frozen=True)
class ExportColumn:
    label: str
    value: Any  # (case) -> cell
    is_identifying: bool = False


EXPORT_COLUMNS: dict[str, ExportColumn] = {
    "reference": ExportColumn("Reference", lambda c: c.reference),
    "region": ExportColumn("Region", lambda c: c.region.name),
    "unit": ExportColumn("Unit", lambda c: c.unit.name if c.unit else ""),
    "category": ExportColumn("Category", lambda c: c.category_label),
    "title": ExportColumn("Title", lambda c: c.title),
    "description": ExportColumn("Description", lambda c: c.description),
    "status": ExportColumn("Status", lambda c: c.status_label),
    "priority": ExportColumn("Priority", lambda c: c.priority_label),
    "grade": ExportColumn("Grade", lambda c: c.grade or ""),
    "wmt_percent": ExportColumn("WMT %", lambda c: c.wmt_percent),
    "caseload": ExportColumn("Caseload", lambda c: c.caseload),
    "risk_flags": ExportColumn("Risk flags", lambda c: "; ".join(c.risk_labels)),
    "assigned_rep": ExportColumn("Assigned rep", lambda c: c.assigned_rep.display_name if c.assigned_rep else ""),
    "opened_on": ExportColumn("Opened on", lambda c: c.opened_on),
    "next_action": ExportColumn("Next action", lambda c: c.next_action or ""),
    "next_action_on": ExportColumn("Next action due", lambda c: c.next_action_on),
    "outcome": ExportColumn("Outcome", lambda c: c.outcome or ""),
    "has_evidence_consent": ExportColumn("Consent as evidence", lambda c: c.has_evidence_consent),
    "member": ExportColumn("Member (pseudonym)", lambda c: c.member.pseudonym if c.member else ""),
    "member_name": ExportColumn("Member name", lambda c: c.member.name if c.member else "", True),
    "membership_number": ExportColumn(
        "Membership number", lambda c: c.member.membership_number if c.member else "", True
    ),
    "member_email": ExportColumn("Member e-mail", lambda c: c.member.email if c.member else "", True),
    "member_phone": ExportColumn("Member phone", lambda c: c.member.phone if c.member else "", True),
}
DEFAULT_EXPORT_COLUMNS = (
    "reference",
    "region",
    "unit",
    "category",
    "title",
    "status",
    "wmt_percent",
    "caseload",
    "assigned_rep",
    "next_action_on",
)


def export_columns_for(user: User) -> dict[str, ExportColumn]:
    """Identifying member columns only for those who may see members' identities."""
    allowed_identity = user.is_admin or user.is_rep
    return {name: col for name, col in EXPORT_COLUMNS.items() if allowed_identity or not col.is_identifying}


def export_cases(actor: User, stmt: Select, columns: Sequence[str]) -> tuple[list[str], Iterator[list[Any]]]:
    """Header and rows of the filtered list; identifying cells blank for members the actor may not see.

    The export is counted (at most ``EXPORT_MAX_ROWS``) and audited now; its rows are read
    as the download is sent.
    """
    available = export_columns_for(actor)
    chosen = [name for name in columns if name in available] or list(DEFAULT_EXPORT_COLUMNS)
    count = rows_in(stmt)
    check_export_size(count)
    identifying = any(available[name].is_identifying for name in chosen)
    record(
        actor,
        AuditAction.CASES_EXPORTED,
        ("cases", "export"),
        rows=count,
        columns=chosen,
        identifying=identifying or None,
    )

    def rows() -> Iterator[list[Any]]:
        for case in streamed(stmt.options(joinedload(Case.member))):
            visible = case.member is not None and may_see_identity(actor, case.member)
            yield [
                available[name].value(case) if (visible or not available[name].is_identifying) else ""
                for name in chosen
            ]

    return [available[name].label for name in chosen], rows()


# ---------------------------------------------------------------- the rep's home page


@dataclass(frozen=True)
class CaseLine:
    """One line of the home page's casework panel: the few columns it shows, not a whole case."""

    id: int
    reference: str
    title: str
    status: str
    next_action: str | None
    next_action_on: date | None

    @property
    def status_label(self) -> str:
        return CaseStatus.label_of(self.status)


def home_summary(user: User, limit: int = 5, today: date | None = None) -> dict[str, Any]:
    """The casework panel in two queries that read a few index entries each, whatever the
    size of the table: both counts in one, the three short lists in another (each list read
    per live status and region, then merged here).

    Lists, in the user's regions: a rep's own live cases (next action soonest first, blanks
    last), overdue next actions of live cases (a rep's own and unassigned ones), and the
    most recently updated cases.
    """
    region_ids = region_ids_for(user)
    regions = None if region_ids is None else sorted(region_ids)
    counts, lines_stmt = _home_statements(user.is_rep, None if regions is None else len(regions), limit)
    params: dict[str, Any] = {"user_id": user.id, "today": today or clock.today()}
    if regions is not None:
        params["region_ids"] = regions
        params.update({f"region_{n}": region_id for n, region_id in enumerate(regions)})
    # Plain column reads: run on the session's connection, past the ORM's per-statement work.
    connection = db.session.connection()
    mine_count, overdue_count = connection.execute(counts, params).one()
    rows: dict[str, list[Any]] = {name: [] for name in _PARTS}
    for row in connection.execute(lines_stmt, params):
        rows[_PARTS[row.part]].append(row)
    # Each status's and region's piece came in its own order; merge them and keep the first few.
    for name in ("mine", "overdue"):
        rows[name].sort(key=lambda r: (r.next_action_on is None, r.next_action_on or date.min, -r.id))
    rows["recent"].sort(key=lambda r: (r.updated_at, r.id), reverse=True)
    lines = {name: [CaseLine(*row[1:7]) for row in part_rows[:limit]] for name, part_rows in rows.items()}
    return {
        "mine": lines["mine"],
        "mine_count": mine_count,
        "overdue": lines["overdue"],
        "overdue_count": overdue_count,
        "recent": lines["recent"],
        "cap": HOME_COUNT_CAP,
    }


_PARTS = ("mine", "overdue", "recent")
HOME_COUNT_CAP = 1000  # the panel counts this far ("more than 1,000"), so its cost stays flat
_CASE_LINE_COLUMNS = (Case.id, Case.reference, Case.title, Case.status, Case.next_action, Case.next_action_on)


@cache
def _home_statements(is_rep: bool, region_count: int | None, limit: int) -> tuple[Select, Select]:
    """The casework panel's two statements, built once per process for each kind of user
    (rep or not, and how many regions they hold: None for every region).

    The user, the day and the user's regions are bound parameters (``user_id``, ``today``,
    ``region_ids``, and ``region_0``… one per region): nothing about the data is kept
    between requests. Each list is read per live status (and per region for reps), in order
    from an index, ``limit`` rows each, so its cost does not grow with the cases a region
    holds; the counts read only index entries, at most HOME_COUNT_CAP + 1 of them.
    """
    user_id, today = bindparam("user_id", type_=Integer), bindparam("today", type_=Date)
    live = Case.status.in_([s.value for s in LIVE_STATUSES])
    mine = Case.assigned_rep_id == user_id
    overdue = Case.next_action_on < today
    if is_rep:
        overdue = and_(overdue, or_(Case.assigned_rep_id == user_id, Case.assigned_rep_id.is_(None)))

    def how_many(condition: Any) -> Any:
        """Counted up to HOME_COUNT_CAP + 1: past that the panel says "more than"."""
        stmt = select(Case.id).where(live, condition)
        if region_count is not None:
            stmt = stmt.where(Case.region_id.in_(bindparam("region_ids", expanding=True)))
        return select(func.count()).select_from(stmt.limit(HOME_COUNT_CAP + 1).subquery()).scalar_subquery()

    counts = select(how_many(mine) if is_rep else literal_column("0"), how_many(overdue))
    places: list[Any] = [None] if region_count is None else [bindparam(f"region_{n}") for n in range(region_count)]

    def part(name: str, condition: Any, statuses: Sequence[Any], *order: Any) -> list[Select]:
        stmt: Select = select(
            literal_column(str(_PARTS.index(name))).label("part"), *_CASE_LINE_COLUMNS, Case.updated_at
        )
        if condition is not None:
            stmt = stmt.where(condition)
        pieces = []
        for place in places:
            for status in statuses:
                piece = stmt if place is None else stmt.where(Case.region_id == place)
                piece = piece if status is None else piece.where(Case.status == status.value)
                pieces.append(piece.order_by(*order).limit(limit).subquery().select())
        return pieces

    parts = [
        *part("overdue", overdue, LIVE_STATUSES, Case.next_action_on.asc(), Case.id.desc()),  # never blank
        *part("recent", None, [None], Case.updated_at.desc(), Case.id.desc()),
    ]
    if is_rep:  # only reps are shown their own cases
        by_next_action = (Case.next_action_on.is_(None).asc(), Case.next_action_on.asc(), Case.id.desc())
        parts += part("mine", mine, LIVE_STATUSES, *by_next_action)
    union = union_all(*parts).subquery()
    return counts, select(union).order_by(union.c.part)
