"""The audit log page, for admins and national officials."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import render_template, request
from flask_babel import gettext
from sqlalchemy import select

from ..kernel.vocabulary import Role
from ..paging import paginate
from ..security import roles_required
from . import bp
from .models import AuditAction, AuditEvent

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
    errors[name] = gettext("Give a date as YYYY-MM-DD, for example 2026-11-24.")
    return None


@bp.route("/")
@roles_required(Role.ADMIN, Role.OFFICIAL)
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
    pagination = paginate(stmt, PAGE_SIZE)
    return render_template(
        "audit/list.html",
        pagination=pagination,
        actions=sorted(a.value for a in AuditAction),
        filters=filters,
        errors=errors,
    ), (400 if errors else 200)
