"""Members' data protection, as admins and the commands use it: finding a member, subject
access requests and their one-month deadline, exports and erasure.

Admins only: they are the people who see members' identities in every region. Every function
that changes something flushes and audits, and leaves the commit to its caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort, current_app
from flask_babel import gettext
from sqlalchemy import select

from .. import storage
from ..accounts.models import User
from ..audit.models import AuditAction, record
from ..cases.models import Member
from ..cases.services import member_with_number
from ..extensions import db
from ..jobs.models import Job
from ..jobs.services import enqueue, page_path, within_the_minute
from ..kernel import clock
from ..kernel.clock import add_months
from ..kernel.ids import MAX_ID
from ..kernel.vocabulary import Role
from ..mail import build_message, outbox, public_url
from ..references import insert_with_reference, next_numbered_reference
from . import tombstones as tombstones  # registers the withdrawal tombstone
from .erasure import ErasurePlan, PrivacyError, erase_member, plan_erasure
from .export import build_export
from .models import ReceivedVia, RequestStatus, SubjectAccessRequest

_PSEUDONYM = re.compile(r"^(?:member\s+)?M-?(\d{1,10})$", re.IGNORECASE)


class NotAllowed(PrivacyError):
    status_code = 403


def _require_admin(user: Any) -> None:
    if user is not None and not getattr(user, "is_admin", False):
        raise NotAllowed("Only admins handle members' subject access and erasure.")


def find_member(text: str | None) -> Member:
    """A member by membership number, or by pseudonym (M-0131); refuse clearly when there is none."""
    text = (text or "").strip()
    if not text:
        raise PrivacyError("Give a membership number or a pseudonym such as M-0131.", "member")
    match = _PSEUDONYM.match(text)
    member = None
    if match and 0 < int(match.group(1)) <= MAX_ID:
        member = db.session.get(Member, int(match.group(1)))
    if member is None:
        member = member_with_number(text)
    if member is None:
        raise PrivacyError(f"No member has the membership number or pseudonym {text[:40]!r}.", "member")
    return member


def get_member_or_404(user: Any, member_id: int) -> Member:
    """A member, any region, for an admin (403 for anyone else; 404 for no such member)."""
    _require_admin(user)
    member = db.session.get(Member, member_id) if 0 < member_id <= MAX_ID else None
    if member is None:
        abort(404)
    return member


# ---------------------------------------------------------------------------- exports and erasure


def export_member(actor: User | None, member: Member) -> bytes:
    """Everything held about the member as a ZIP (``export.build_export``); audited."""
    _require_admin(actor)
    if member.is_erased:
        raise PrivacyError(
            f"{member.pseudonym} was erased on {member.erased_on:%-d %B %Y}: nothing about them is held."
        )
    return build_export(actor, member)


def preview_erasure(actor: User | None, member: Member) -> ErasurePlan:
    _require_admin(actor)
    return plan_erasure(member)


def erase(actor: User | None, member: Member, *, account: str | None) -> ErasurePlan:
    """Erase the member (``erasure.erase_member``), an admin's decision; an export made for
    one of their requests goes with them."""
    _require_admin(actor)
    discard_exports(
        list(db.session.scalars(select(SubjectAccessRequest).where(SubjectAccessRequest.member_id == member.id)))
    )
    return erase_member(actor, member, account=account)


# ---------------------------------------------------------------------------- subject access requests


def due_on_for(received_on: date) -> date:
    """One calendar month from receipt (UK GDPR article 12(3)); a day the month lacks is its last."""
    return add_months(received_on, 1)


def record_request(actor: User, member: Member, *, received_on: date, received_via: str) -> SubjectAccessRequest:
    """Log a member's request to see their data; its deadline is one calendar month from receipt."""
    _require_admin(actor)
    if member.is_erased:
        raise PrivacyError(f"{member.pseudonym} was erased: nothing about them is held.", "member")
    today = clock.today()
    if received_on > today:
        raise PrivacyError("A request cannot be received after today.", "received_on")
    if received_on < add_months(today, -12):
        raise PrivacyError("Give the day the request reached the union (within the last year).", "received_on")
    if not ReceivedVia.has_value(received_via):
        raise PrivacyError("Choose how the request reached the union.", "received_via")

    def build(reference: str) -> SubjectAccessRequest:
        return SubjectAccessRequest(
            reference=reference,
            member_id=member.id,
            received_on=received_on,
            received_via=received_via,
            due_on=due_on_for(received_on),
            created_by_id=actor.id,
        )

    request = insert_with_reference(
        SubjectAccessRequest.reference,
        lambda: next_numbered_reference(SubjectAccessRequest.reference, f"SAR-{received_on.year}-"),
        build,
    )
    record(
        actor, AuditAction.ACCESS_REQUEST_RECORDED, request, member=member.pseudonym, due_on=request.due_on.isoformat()
    )
    return request


def get_request_for(user: Any, reference: str) -> SubjectAccessRequest:
    _require_admin(user)
    request = db.session.scalar(
        select(SubjectAccessRequest).where(SubjectAccessRequest.reference == reference.strip().upper())
    )
    if request is None:
        abort(404)
    return request


def requests_list() -> list[SubjectAccessRequest]:
    """Open requests first, the nearest deadline first; then answered ones, the latest first."""
    requests = list(db.session.scalars(select(SubjectAccessRequest)))
    open_ = sorted((r for r in requests if r.is_open), key=lambda r: (r.due_on, r.reference))
    answered = sorted((r for r in requests if not r.is_open), key=lambda r: r.answered_on or r.due_on, reverse=True)
    return open_ + answered


def export_for_request(actor: User, request: SubjectAccessRequest) -> bytes:
    """The export that answers a request; the request remembers the day it was made."""
    _require_admin(actor)
    if request.member is None:
        raise PrivacyError("This request's member is no longer recorded.")
    data = export_member(actor, request.member)
    request.exported_on = clock.today()
    db.session.flush()
    return data


def ask_for_export(actor: User, request: SubjectAccessRequest) -> Job:
    """Have the export made on a worker (it gathers and renders everything held about the
    member); the request's page offers it once it is made. Asked twice within a minute (a
    second click), it is made once."""
    _require_admin(actor)
    if not request.is_open:
        raise PrivacyError(f"{request.reference} was already answered.")
    if request.member is None:
        raise PrivacyError("This request's member is no longer recorded.")
    return enqueue(
        "privacy.export",
        request.id,
        requested_by=actor,
        subject=request.reference,
        key=within_the_minute(f"privacy.export:{request.id}"),
        result_url=page_path("privacy.request_detail", reference=request.reference),
    )


def make_export(actor: User, request: SubjectAccessRequest) -> SubjectAccessRequest:
    """Make the export (``export_for_request``) and keep it, encrypted, in place of any earlier one."""
    data = export_for_request(actor, request)
    earlier = request.export_file
    request.export_file, request.export_made_at = storage.save(data).stored_name, clock.utcnow()
    if earlier:
        storage.delete_after_commit(earlier)
    db.session.flush()
    return request


def read_export(actor: User, request: SubjectAccessRequest) -> bytes:
    """The kept export, for the admin who sends it to the member; each download is audited."""
    _require_admin(actor)
    if request.export_file is None:
        abort(404)
    record(actor, AuditAction.ACCESS_REQUEST_EXPORT_DOWNLOADED, request)
    return storage.read(request.export_file)


def discard_exports(requests: list[SubjectAccessRequest]) -> None:
    """The kept exports go once their transaction commits: the member has theirs, or was erased."""
    for request in requests:
        if request.export_file:
            storage.delete_after_commit(request.export_file)
            request.export_file = None


def mark_answered(actor: User, request: SubjectAccessRequest, answered_on: date) -> SubjectAccessRequest:
    """The export was sent to the member: the request is closed."""
    _require_admin(actor)
    if not request.is_open:
        raise PrivacyError(f"{request.reference} was already answered.")
    if request.exported_on is None:
        raise PrivacyError("Make the export first: it is what answers the request.", "answered_on")
    if not request.received_on <= answered_on <= clock.today():
        raise PrivacyError("The answer is sent between the day the request came and today.", "answered_on")
    request.status = RequestStatus.ANSWERED.value
    request.answered_on = answered_on
    discard_exports([request])
    db.session.flush()
    record(actor, AuditAction.ACCESS_REQUEST_FULFILLED, request, late=answered_on > request.due_on)
    return request


# ---------------------------------------------------------------------------- reminders


@dataclass(frozen=True)
class Reminded:
    requests: int
    admins: int


def requests_needing_reminder(on: date) -> list[SubjectAccessRequest]:
    """Open requests due within ``ACCESS_REQUEST_REMIND_DAYS`` or overdue, not yet reminded today."""
    soon = on.toordinal() + int(current_app.config["ACCESS_REQUEST_REMIND_DAYS"])
    return [
        request
        for request in requests_list()
        if request.is_open
        and request.due_on.toordinal() <= soon
        and (request.last_reminded_on is None or request.last_reminded_on < on)
    ]


def send_reminders(on: date, requests: list[SubjectAccessRequest]) -> Reminded:
    """One content-free e-mail to each active admin: references, deadlines and a link only.
    ``mail.MailError`` leaves the requests unmarked, for the next run."""
    if not requests:
        return Reminded(0, 0)
    admins = list(
        db.session.scalars(
            select(User).where(User.role == Role.ADMIN.value, User.is_active.is_(True)).order_by(User.email)
        )
    )
    overdue, due = gettext("OVERDUE"), gettext("due")
    lines = [
        f"  {r.reference}  {overdue if r.is_overdue(on) else due} {r.due_on:%a %d %b %Y}  "
        + public_url("privacy.request_detail", reference=r.reference)
        for r in requests
    ]
    body = (
        gettext("Subject access requests that need answering, as of %(day)s:", day=on.strftime("%d %B %Y"))
        + "\n\n"
        + "\n".join(lines)
        + "\n\n"
        + gettext("The law gives one calendar month from receipt. This reminder holds references and dates only.")
        + "\n"
    )
    with outbox() as box:
        for admin in admins:
            box.send(build_message(admin.email, gettext("Subject access requests due"), body))
    for request in requests:
        request.last_reminded_on = on
    db.session.flush()
    record(None, AuditAction.ACCESS_REQUEST_REMINDERS_SENT, None, requests=len(requests), admins=len(admins))
    return Reminded(len(requests), len(admins))
