"""The read-only JSON API: regions and units, metrics, evidence items and statistics.

Bad filters answer 400 with ``{"error", "detail"}``: an unknown metric, an inverted date
range, a page size over MAX_PER_PAGE (refused, not clamped, so a client never silently
gets fewer rows than it asked for).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user
from marshmallow import Schema, ValidationError
from sqlalchemy import select, tuple_
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from ..evidence.models import EvidenceItem, Metric, metric_by_code
from ..evidence.services import (
    EvidenceFilters,
    exact_value,
    filtered_items,
    get_evidence_for,
    is_withheld,
    is_withheld_from,
    plain_decimal,
)
from ..evidence.statistics import PlaceFigure, StatisticsError, latest_figures, metric_for
from ..extensions import db
from ..kernel.clock import today
from ..kernel.errors import DomainError
from ..regions.models import Region
from ..regions.scoping import scope_to_regions
from . import bp
from .openapi import openapi_document
from .schemas import (
    EvidenceItemSchema,
    EvidencePageSchema,
    EvidenceQuery,
    MetricsSchema,
    RegionsSchema,
    StatisticsQuery,
    StatisticsSchema,
    cursor_for,
    first_error,
)


class BadRequest(DomainError):
    """A filter the API refuses: 400, and the detail says which and why."""


@bp.errorhandler(BadRequest)
def bad_request(error: BadRequest):
    # The API's own answer to a bad filter; like every API answer, it keeps the token's
    # time of last use (the app's handler for domain errors would roll that back).
    return jsonify(error="bad request", detail=error.message), 400


def _query(schema: Schema) -> dict[str, Any]:
    """The query string loaded through the operation's schema (the one the document shows)."""
    try:
        return schema.load(request.args)
    except ValidationError as error:
        raise BadRequest(first_error(error)) from None


def _metric_arg(code: str | None) -> Metric | None:
    if not code:
        return None
    metric = metric_by_code(code[:80])
    if metric is None:
        raise BadRequest(f"unknown metric {code[:40]!r}; see /api/v1/metrics for the codes")
    return metric


def _metric_json(metric: Metric) -> dict[str, Any]:
    return {
        "code": metric.code,
        "label": metric.label,
        "unit": metric.unit,
        "description": metric.description,
        "is_higher_worse": metric.is_higher_worse,
        "is_individual": metric.is_individual,
        "is_additive": metric.is_additive,
        "levels": metric.level_values,
        "thresholds": [plain_decimal(t) for t in metric.thresholds],
    }


def _source_json(item: EvidenceItem) -> dict[str, Any]:
    return {
        "type": item.source_type,
        "title": item.source_title,
        "publisher": item.source_publisher,
        "date": item.source_date,
        "url": item.source_url or None,
    }


def _item_json(item: EvidenceItem) -> dict[str, Any]:
    withheld = is_withheld_from(current_user, is_withheld(item))
    return {
        "reference": item.reference,
        "region": {"id": item.region.id, "name": item.region.name} if item.region else None,
        "unit": {"id": item.unit.id, "name": item.unit.name} if item.unit else None,
        "metric": item.metric.code if item.metric else None,
        "value": None if withheld or item.value is None else exact_value(item),
        "is_value_withheld": withheld,
        "statement": item.statement,
        "as_of": item.as_of,
        "period_start_on": item.period_start_on,
        "grade": item.grade,
        "source": _source_json(item),
        "is_verified": item.is_verified,
        "visibility": item.visibility,
    }


def _figure_json(figure: PlaceFigure) -> dict[str, Any]:
    item = figure.item
    return {
        "region": {"id": item.region.id, "name": item.region.name} if item.region else None,
        "unit": {"id": item.unit.id, "name": item.unit.name} if item.unit else None,
        "grade": item.grade,
        "as_of": item.as_of,
        "value": figure.exact,
        "is_withheld": figure.is_withheld,
        "reference": item.reference,
        "source": _source_json(item),
    }


@bp.route("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.route("/regions")
def regions():
    """Regions (a rep's own) with their units."""
    stmt = scope_to_regions(select(Region).order_by(Region.name), Region.id, current_user)
    stmt = stmt.options(selectinload(Region.units))  # every region's units in one more query
    found = [
        {
            "id": region.id,
            "name": region.name,
            "units": [{"id": unit.id, "name": unit.name, "kind": unit.kind} for unit in region.units],
        }
        for region in db.session.scalars(stmt)
    ]
    return jsonify(RegionsSchema().dump({"regions": found}))


@bp.route("/metrics")
def metrics():
    found = [_metric_json(m) for m in db.session.scalars(select(Metric).order_by(Metric.code))]
    return jsonify(MetricsSchema().dump({"metrics": found}))


@bp.route("/evidence")
def evidence():
    """Evidence items, newest first, filtered, a page at a time.

    Pages are read by position (keyset): each carries the cursor of the next, so a deep page
    costs what the first one does, and an item added meanwhile never shifts a page.
    """
    args = _query(EvidenceQuery())
    metric = _metric_arg(args.get("metric"))
    per_page = args["per_page"]
    filters = EvidenceFilters(
        region_id=args.get("region_id"),
        national=bool(args.get("national")),
        unit_id=args.get("unit_id"),
        metric_id=metric.id if metric else None,
        source_type=args.get("source_type"),
        is_verified=args.get("verified"),
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
    )
    stmt = filtered_items(current_user, filters)  # newest first: as_of, then id, both descending
    if args.get("cursor") is not None:
        stmt = stmt.where(tuple_(EvidenceItem.as_of, EvidenceItem.id) < tuple_(*args["cursor"]))
    items = db.session.scalars(stmt.limit(per_page + 1)).unique().all()
    page, more = items[:per_page], len(items) > per_page
    return jsonify(
        EvidencePageSchema().dump(
            {
                "items": [_item_json(i) for i in page],
                "per_page": per_page,
                "next_cursor": cursor_for(page[-1].as_of, page[-1].id) if more else None,
            }
        )
    )


@bp.route("/evidence/<reference>")
def evidence_item(reference: str):
    try:
        item = get_evidence_for(current_user, reference)
    except NotFound:
        return jsonify(error="not found", detail="No evidence item with that reference that you can see."), 404
    return jsonify(EvidenceItemSchema().dump(_item_json(item)))


@bp.route("/statistics")
def statistics():
    """The latest figure of each place (each grade apart) on or before a date, and for a metric
    whose figures add up, their exact total: the numbers the dashboards and briefings show."""
    args = _query(StatisticsQuery())
    try:
        metric = metric_for(args["metric"], args["level"])
    except StatisticsError as error:
        raise BadRequest(error.message) from None
    on = args.get("on") or today()
    snapshot = latest_figures(
        current_user, metric, on=on, level=args["level"], region_id=args.get("region_id"), grade=args.get("grade")
    )
    return jsonify(
        StatisticsSchema().dump(
            {
                "metric": metric.code,
                "unit": metric.unit,
                "level": args["level"],
                "on": on,
                "is_additive": metric.is_additive,
                "figures": [_figure_json(f) for f in snapshot.figures],
                "totals": [
                    {"grade": t.grade, "total": t.exact, "places": t.place_count, "is_withheld": t.is_withheld}
                    for t in snapshot.totals
                ],
            }
        )
    )
