"""The append-only audit log: who did what to which record, and when.

Append-only three times over: the ORM refuses to change or delete an entry, and so does the
database itself (triggers on SQLite and PostgreSQL, migration 0011). The one way an entry is
ever deleted is the retention schedule's, through ``delete_entries_before``: it leaves a
permit naming a cutoff in its own transaction, and the trigger lets through only the deletion
of entries older than that cutoff while the permit stands.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, ForeignKey, String, delete, event, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..extensions import Model, db
from ..kernel import transaction
from ..kernel.clock import utcnow


class AuditAction(StrEnum):
    """Every audit tag, in one place. ``domain:thing:verb``."""

    LOGIN = "auth:login"
    LOGIN_FAILED = "auth:login:failed"
    LOGIN_THROTTLED = "auth:login:throttled"
    LOGIN_LOCKED = "auth:login:locked"
    SESSION_ENDED = "auth:session:ended"
    TWO_FACTOR_ENABLED = "auth:two-factor:enabled"
    TWO_FACTOR_DISABLED = "auth:two-factor:disabled"
    TWO_FACTOR_RECOVERY_CODE_USED = "auth:two-factor:recovery-code-used"
    TWO_FACTOR_RECOVERY_CODES_REPLACED = "auth:two-factor:recovery-codes-replaced"
    PASSWORD_RESET_REQUESTED = "auth:password:reset-requested"
    PASSWORD_RESET = "auth:password:reset"
    SESSIONS_ENDED = "auth:sessions:ended"
    LOGOUT = "auth:logout"
    PASSWORD_CHANGED = "auth:password:changed"
    USER_CREATED = "user:created"
    USER_CHANGED = "user:changed"
    USER_DEACTIVATED = "user:deactivated"
    USER_REACTIVATED = "user:reactivated"
    REGION_CREATED = "region:created"
    REGION_CHANGED = "region:changed"
    UNIT_CREATED = "unit:created"
    UNIT_CHANGED = "unit:changed"
    DEMO_LOADED = "demo:loaded"
    # a record outside the user's regions was asked for (answered 404, as a missing one)
    ACCESS_REFUSED = "access:out-of-region"
    # testimonies
    TESTIMONY_SUBMITTED = "testimony:submitted"
    TESTIMONY_APPROVED = "testimony:approved"
    TESTIMONY_REJECTED = "testimony:rejected"
    TESTIMONY_QUESTION_ASKED = "testimony:question:asked"
    TESTIMONY_ANSWERED = "testimony:answered"
    TESTIMONY_WITHDRAWN = "testimony:withdrawn"
    TESTIMONY_ORIGINAL_ERASED = "testimony:original:erased"
    TESTIMONY_TAGGED = "testimony:tagged"
    TESTIMONIES_EXPORTED = "testimony:exported"
    TESTIMONY_VIEWED = "testimony:viewed"
    # casework
    MEMBER_CREATED = "member:created"
    MEMBER_CHANGED = "member:changed"
    MEMBER_VIEWED = "member:personal-data:viewed"
    MEMBER_PAGE_VIEWED = "member:viewed"
    MEMBER_EXPORTED = "member:exported"
    MEMBER_ERASED = "member:erased"
    CASE_CREATED = "case:created"
    CASE_CHANGED = "case:changed"
    CASE_STATUS_CHANGED = "case:status:changed"
    CASE_ASSIGNED = "case:assigned"
    CASE_NOTE_ADDED = "case:note:added"
    CASE_ATTACHMENT_ADDED = "case:attachment:added"
    CASE_ATTACHMENT_DOWNLOADED = "case:attachment:downloaded"
    CASE_ATTACHMENT_DELETED = "case:attachment:deleted"
    CASES_EXPORTED = "case:exported"
    CASE_VIEWED = "case:viewed"
    CASE_ANONYMISED = "case:anonymised"
    # foreseeability notices
    NOTICE_CREATED = "notice:created"
    NOTICE_CHANGED = "notice:changed"
    NOTICE_SERVED = "notice:served"
    NOTICE_RESPONSE_RECORDED = "notice:response:recorded"
    NOTICE_ESCALATED = "notice:escalated"
    NOTICE_RESOLVED = "notice:resolved"
    NOTICE_LETTER_PRINTED = "notice:letter:printed"
    NOTICE_REMINDERS_SENT = "notice:reminders:sent"
    CALENDAR_TOKEN_CHANGED = "notice:calendar-token:changed"
    NOTICES_EXPORTED = "notice:exported"
    NOTICE_VIEWED = "notice:viewed"
    NOTICE_ANONYMISED = "notice:anonymised"
    # evidence
    EVIDENCE_CREATED = "evidence:created"
    EVIDENCE_CHANGED = "evidence:changed"
    EVIDENCE_VERIFIED = "evidence:verified"
    EVIDENCE_DELETED = "evidence:deleted"
    EVIDENCE_IMPORTED = "evidence:imported"
    EVIDENCE_EXPORTED = "evidence:exported"
    EVIDENCE_OVERRIDDEN = "evidence:small-number:overridden"
    IMPORT_VERIFIED = "evidence:import:verified"
    IMPORT_REVERTED = "evidence:import:reverted"
    METRIC_CREATED = "metric:created"
    METRIC_CHANGED = "metric:changed"
    API_TOKEN_CREATED = "api-token:created"
    API_TOKEN_REVOKED = "api-token:revoked"
    # briefings
    BRIEFING_CREATED = "briefing:created"
    BRIEFING_CHANGED = "briefing:changed"
    BRIEFING_PUBLISHED = "briefing:published"
    BRIEFING_WITHDRAWN = "briefing:withdrawn"
    BRIEFING_RENDERED = "briefing:rendered"
    BRIEFING_DOWNLOADED = "briefing:downloaded"
    BRIEFING_VERSION_ERASED = "briefing:version:erased"
    QUESTION_CREATED = "question:created"
    QUESTION_CHANGED = "question:changed"
    # members' data protection
    ACCESS_REQUEST_RECORDED = "access-request:recorded"
    ACCESS_REQUEST_FULFILLED = "access-request:fulfilled"
    ACCESS_REQUEST_EXPORT_DOWNLOADED = "access-request:export:downloaded"
    ACCESS_REQUEST_REMINDERS_SENT = "access-request:reminders:sent"
    RETENTION_APPLIED = "retention:applied"
    BACKUP_CREATED = "backup:created"
    BACKUP_RESTORED = "backup:restored"
    ERASURE_REAPPLIED = "erasure:reapplied"


class AuditEvent(Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context, instances) -> None:
    """Append-only: an audit event is never updated or deleted through the ORM."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise PermissionError("the audit log is append-only")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_audit_changes(state) -> None:
    """Append-only: nor through a bulk ``update(AuditEvent)`` or ``delete(AuditEvent)``."""
    if (state.is_update or state.is_delete) and any(m.class_ is AuditEvent for m in state.all_mappers):
        raise PermissionError("the audit log is append-only")


class AuditDeletionPermit(Model):
    """Present only inside the retention run that deletes old entries: the database triggers
    allow the deletion of entries older than ``delete_before`` while a permit stands."""

    __tablename__ = "audit_deletion_permits"

    id: Mapped[int] = mapped_column(primary_key=True)
    delete_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def record(actor: Any, action: AuditAction, target: Any = None, **details: Any) -> AuditEvent:
    """Add one audit event to the current transaction (the caller commits).

    ``actor`` is a User or None (anonymous). ``target`` is a model instance (its
    ``reference`` is used when it has one) or a ``(type, ref)`` pair. ``details`` must
    hold nothing sensitive: no personal data, no testimony text.
    """
    entry = AuditEvent(**_values(actor, action, target, details))
    db.session.add(entry)
    return entry


def record_independently(actor: Any, action: AuditAction, target: Any = None, **details: Any) -> None:
    """Write an audit event that stands even if the current transaction rolls back (an attempt
    that is refused with an error page): it is written on its own once the transaction ends."""
    values = _values(actor, action, target, details)
    values["occurred_at"] = utcnow()

    def write(connection: Connection) -> None:
        connection.execute(insert(AuditEvent), [values])

    transaction.write_independently(write)


def _values(actor: Any, action: AuditAction, target: Any, details: dict[str, Any]) -> dict[str, Any]:
    target_type = target_ref = None
    if isinstance(target, tuple):
        target_type, target_ref = target
    elif target is not None:
        if getattr(target, "id", None) is None:
            db.session.flush()
        target_type = getattr(target, "__tablename__", type(target).__name__)
        target_ref = getattr(target, "reference", None) or str(target.id)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return {
        "actor_id": actor.id if authenticated else None,
        "actor_label": actor.email if authenticated else "anonymous",
        "action": str(action),
        "target_type": target_type,
        "target_ref": None if target_ref is None else str(target_ref)[:64],
        "details": {key: value for key, value in details.items() if value is not None},
    }


def delete_entries_before(cutoff: datetime) -> int:
    """Delete the entries older than ``cutoff``: the retention schedule's path, and the only one.

    Core statements on the session's connection (the ORM guards above refuse any deletion),
    inside the caller's transaction: the permit the triggers look for is made and removed in
    it, so no other transaction ever sees one.
    """
    connection = db.session.connection()
    connection.execute(insert(AuditDeletionPermit), [{"delete_before": cutoff}])
    deleted = connection.execute(delete(AuditEvent).where(AuditEvent.occurred_at < cutoff)).rowcount
    connection.execute(delete(AuditDeletionPermit))
    return int(deleted or 0)
