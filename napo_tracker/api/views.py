"""The read-only JSON API: regions and units, metrics, evidence items and statistics.

Bad filters answer 400 with ``{"error", "detail"}``: an unknown metric, an inverted date
range, a page size over MAX_PER_PAGE (refused, not clamped, so a client never silently
gets fewer rows than it asked for).
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from flask import jsonify, request
from flask_login import current_user
from sqlalchemy import select, tuple_
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from ..evidence.models import EvidenceItem, Metric, SourceType, metric_by_code
from ..evidence.services import (
    EvidenceFilters,
    aggregate,
    filtered_items,
    get_evidence_for,
    is_withheld_from,
    plain_decimal,
    reveals_fewer_than_three,
)
from ..extensions import db
from ..kernel.errors import DomainError
from ..kernel.ids import MAX_ID
from ..regions.models import Region
from ..regions.scoping import scope_to_regions
from . import bp
from .openapi import MAX_PER_PAGE, openapi_document


class BadRequest(DomainError):
    """A filter the API refuses: 400, and the detail says which and why."""


@bp.errorhandler(BadRequest)
def bad_request(error: BadRequest):
    # The API's own answer to a bad filter; like every API answer, it keeps the token's
    # time of last use (the app's handler for domain errors would roll that back).
    return jsonify(error="bad request", detail=error.message), 400


def _int_arg(name: str, *, minimum: int = 1, maximum: int = MAX_ID, default: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise BadRequest(f"{name} must be a whole number")
    value = int(raw)
    if value < minimum:
        raise BadRequest(f"{name} must be at least {minimum}")
    if value > maximum:
        raise BadRequest(f"{name} must be at most {maximum}")
    return value


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        if len(raw) != 10:
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a date in the form YYYY-MM-DD") from None


def _bool_arg(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise BadRequest(f"{name} must be true or false")


def _date_range() -> tuple[date | None, date | None]:
    date_from, date_to = _date_arg("from"), _date_arg("to")
    if date_from and date_to and date_from > date_to:
        raise BadRequest("from must be on or before to")
    return date_from, date_to


def _metric_arg() -> Metric | None:
    code = request.args.get("metric", "")
    if not code:
        return None
    metric = metric_by_code(code[:80])
    if metric is None:
        raise BadRequest(f"unknown metric {code[:40]!r}; see /api/v1/metrics for the codes")
    return metric


def _required_metric_arg() -> Metric:
    metric = _metric_arg()
    if metric is None:
        raise BadRequest("metric is required (a metric code, see /api/v1/metrics)")
    return metric


def _metric_json(metric: Metric) -> dict[str, Any]:
    return {
        "code": metric.code,
        "label": metric.label,
        "unit": metric.unit,
        "description": metric.description,
        "is_higher_worse": metric.is_higher_worse,
        "is_individual": metric.is_individual,
        "thresholds": [plain_decimal(t) for t in metric.thresholds],
    }


def _item_json(item: EvidenceItem) -> dict[str, Any]:
    withheld = item.value is not None and is_withheld_from(current_user, reveals_fewer_than_three(item))
    return {
        "reference": item.reference,
        "region": {"id": item.region.id, "name": item.region.name} if item.region else None,
        "unit": {"id": item.unit.id, "name": item.unit.name} if item.unit else None,
        "metric": item.metric.code if item.metric else None,
        "value": None if withheld or item.value is None else plain_decimal(item.value),
        "is_value_withheld": withheld,
        "statement": item.statement,
        "as_of": item.as_of.isoformat(),
        "period_start_on": item.period_start_on.isoformat() if item.period_start_on else None,
        "grade": item.grade,
        "source": {
            "type": item.source_type,
            "title": item.source_title,
            "publisher": item.source_publisher,
            "date": item.source_date.isoformat() if item.source_date else None,
            "url": item.source_url or None,
        },
        "is_verified": item.is_verified,
        "visibility": item.visibility,
    }


@bp.route("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.route("/regions")
def regions():
    """Regions (a rep's own) with their units."""
    stmt = scope_to_regions(select(Region).order_by(Region.name), Region.id, current_user)
    stmt = stmt.options(selectinload(Region.units))  # not one query per region
    return jsonify(
        regions=[
            {
                "id": region.id,
                "name": region.name,
                "units": [{"id": unit.id, "name": unit.name, "kind": unit.kind} for unit in region.units],
            }
            for region in db.session.scalars(stmt)
        ]
    )


@bp.route("/metrics")
def metrics():
    return jsonify(metrics=[_metric_json(m) for m in db.session.scalars(select(Metric).order_by(Metric.code))])


def _cursor_arg() -> tuple[date, int] | None:
    """The position after which a page starts: the ``next_cursor`` of the page before."""
    raw = request.args.get("cursor", "")
    if not raw:
        return None
    try:
        if len(raw) > 64 or not raw.isascii():
            raise ValueError
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
        as_of, _, item_id = text.partition("/")
        if len(as_of) != 10 or not item_id.isdigit() or len(item_id) > 10:
            raise ValueError
        position = (date.fromisoformat(as_of), int(item_id))
        if not 1 <= position[1] <= MAX_ID:
            raise ValueError
    except (ValueError, UnicodeError):
        raise BadRequest("cursor is not one this API gave (use next_cursor from the page before)") from None
    return position


def _cursor_for(item: EvidenceItem) -> str:
    return base64.urlsafe_b64encode(f"{item.as_of.isoformat()}/{item.id}".encode("ascii")).decode("ascii").rstrip("=")


@bp.route("/evidence")
def evidence():
    """Evidence items, newest first, filtered, a page at a time.

    Pages are read by position (keyset): each carries the cursor of the next, so a deep page
    costs what the first one does, and an item added meanwhile never shifts a page.
    """
    if "page" in request.args:
        raise BadRequest("page is not supported: follow next_cursor from each page")
    position = _cursor_arg()
    per_page = _int_arg("per_page", default=50, maximum=MAX_PER_PAGE) or 50
    source_type = request.args.get("source_type") or None
    if source_type is not None and not SourceType.has_value(source_type):
        raise BadRequest("unknown source_type; use one of " + ", ".join(s.value for s in SourceType))
    date_from, date_to = _date_range()
    metric = _metric_arg()
    filters = EvidenceFilters(
        region_id=_int_arg("region_id"),
        national=bool(_bool_arg("national")),
        unit_id=_int_arg("unit_id"),
        metric_id=metric.id if metric else None,
        source_type=source_type,
        is_verified=_bool_arg("verified"),
        date_from=date_from,
        date_to=date_to,
    )
    stmt = filtered_items(current_user, filters)  # newest first: as_of, then id, both descending
    if position is not None:
        stmt = stmt.where(tuple_(EvidenceItem.as_of, EvidenceItem.id) < tuple_(*position))
    items = db.session.scalars(stmt.limit(per_page + 1)).unique().all()
    page, more = items[:per_page], len(items) > per_page
    return jsonify(
        items=[_item_json(i) for i in page],
        per_page=per_page,
        next_cursor=_cursor_for(page[-1]) if more else None,
    )


@bp.route("/evidence/<reference>")
def evidence_item(reference: str):
    try:
        item = get_evidence_for(current_user, reference)
    except NotFound:
        return jsonify(error="not found", detail="No evidence item with that reference that you can see."), 404
    return jsonify(_item_json(item))


@bp.route("/statistics")
def statistics():
    """Count, min, max and mean of one metric per region and period (month or year)."""
    metric = _required_metric_arg()
    period = request.args.get("period", "month")
    if period not in ("month", "year"):
        raise BadRequest("period must be month or year")
    date_from, date_to = _date_range()
    region_id = _int_arg("region_id")
    groups = aggregate(
        [metric.id], period=period, region_ids={region_id} if region_id else None, date_from=date_from, date_to=date_to
    )
    names = dict(db.session.execute(select(Region.id, Region.name)).all())
    rows = []
    for group in groups:
        hidden = group.is_withheld_from(current_user)
        rows.append(
            {
                "region": names.get(group.region_id) if group.region_id else None,
                "region_id": group.region_id,
                "period": group.period,
                "count": group.count,
                "mean": None if hidden else plain_decimal(group.mean),
                "min": None if hidden else plain_decimal(group.minimum),
                "max": None if hidden else plain_decimal(group.maximum),
                "is_withheld": hidden,
            }
        )
    return jsonify(metric=metric.code, unit=metric.unit, period=period, statistics=rows)
