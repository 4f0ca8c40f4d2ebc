"""The append-only audit log: who did what to which record, and when."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import JSON, DateTime, ForeignKey, String, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .extensions import db, utcnow
from .security import roles_required

bp = Blueprint("audit", __name__, url_prefix="/audit")


class AuditAction(StrEnum):
    """Every audit tag, in one place. ``domain:thing:verb``."""

    LOGIN = "auth:login"
    LOGIN_FAILED = "auth:login:failed"
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
    # casework
    MEMBER_CREATED = "member:created"
    MEMBER_CHANGED = "member:changed"
    MEMBER_VIEWED = "member:personal-data:viewed"
    CASE_CREATED = "case:created"
    CASE_CHANGED = "case:changed"
    CASE_STATUS_CHANGED = "case:status:changed"
    CASE_ASSIGNED = "case:assigned"
    CASE_NOTE_ADDED = "case:note:added"
    CASE_ATTACHMENT_ADDED = "case:attachment:added"
    CASE_ATTACHMENT_DOWNLOADED = "case:attachment:downloaded"
    CASE_ATTACHMENT_DELETED = "case:attachment:deleted"
    CASES_EXPORTED = "case:exported"
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
    # evidence
    EVIDENCE_CREATED = "evidence:created"
    EVIDENCE_CHANGED = "evidence:changed"
    EVIDENCE_VERIFIED = "evidence:verified"
    EVIDENCE_DELETED = "evidence:deleted"
    EVIDENCE_IMPORTED = "evidence:imported"
    EVIDENCE_EXPORTED = "evidence:exported"
    METRIC_CREATED = "metric:created"
    API_TOKEN_CREATED = "api-token:created"
    API_TOKEN_REVOKED = "api-token:revoked"
    # briefings
    BRIEFING_CREATED = "briefing:created"
    BRIEFING_CHANGED = "briefing:changed"
    BRIEFING_PUBLISHED = "briefing:published"
    BRIEFING_WITHDRAWN = "briefing:withdrawn"
    BRIEFING_RENDERED = "briefing:rendered"
    QUESTION_CREATED = "question:created"
    QUESTION_CHANGED = "question:changed"


class AuditEvent(db.Model):
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


def record(actor: Any, action: AuditAction, target: Any = None, **details: Any) -> AuditEvent:
    """Add one audit event to the current transaction (the caller commits).

    ``actor`` is a User or None (anonymous). ``target`` is a model instance (its
    ``reference`` is used when it has one) or a ``(type, ref)`` pair. ``details`` must
    hold nothing sensitive: no personal data, no testimony text.
    """
    target_type = target_ref = None
    if isinstance(target, tuple):
        target_type, target_ref = target
    elif target is not None:
        if getattr(target, "id", None) is None:
            db.session.flush()
        target_type = getattr(target, "__tablename__", type(target).__name__)
        target_ref = getattr(target, "reference", None) or str(target.id)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    entry = AuditEvent(
        actor_id=actor.id if authenticated else None,
        actor_label=actor.email if authenticated else "anonymous",
        action=str(action),
        target_type=target_type,
        target_ref=None if target_ref is None else str(target_ref)[:64],
        details={key: value for key, value in details.items() if value is not None},
    )
    db.session.add(entry)
    return entry


PAGE_SIZE = 50


def _date_filter(name: str, errors: dict[str, str]) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if len(raw) == 10:  # only YYYY-MM-DD, as the date input sends
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    errors[name] = "Give a date as YYYY-MM-DD, for example 2026-11-24."
    return None


@bp.route("/")
@roles_required("admin", "official")
def index():
    """The log, newest first, filtered by action, who, record, and a range of days (UTC)."""
    filters = {
        "action": request.args.get("action", "").strip()[:64],
        "actor": request.args.get("actor", "").strip()[:254],
        "target": request.args.get("target", "").strip()[:64],
        "since": request.args.get("since", "").strip()[:10],
        "until": request.args.get("until", "").strip()[:10],
    }
    errors: dict[str, str] = {}
    since, until = _date_filter("since", errors), _date_filter("until", errors)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    stmt = select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if filters["action"]:
        stmt = stmt.where(AuditEvent.action.startswith(filters["action"], autoescape=True))
    if filters["actor"]:
        stmt = stmt.where(AuditEvent.actor_label.icontains(filters["actor"], autoescape=True))
    if filters["target"]:
        stmt = stmt.where(AuditEvent.target_ref == filters["target"])
    if since:
        stmt = stmt.where(AuditEvent.occurred_at >= datetime.combine(since, time.min, UTC))
    if until:
        stmt = stmt.where(AuditEvent.occurred_at < datetime.combine(until + timedelta(days=1), time.min, UTC))
    pagination = db.paginate(stmt, page=page, per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "audit/list.html",
        pagination=pagination,
        actions=sorted(a.value for a in AuditAction),
        filters=filters,
        errors=errors,
    ), (400 if errors else 200)
