"""The API's schemas, written once: the views load their query strings and dump their answers
through them, and ``openapi.py`` builds the OpenAPI document from the same classes, so the
document cannot drift from what the views do.

Exact figures travel as text ("14.20" stays "14.20"): JSON numbers would round them.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..evidence.models import Level, MetricUnit, SourceType, Visibility
from ..kernel.ids import MAX_ID

MAX_PER_PAGE = 100
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


def exact(description: str, **kwargs: Any) -> fields.String:
    """An exact decimal as text."""
    return fields.String(
        validate=validate.Regexp(DECIMAL_PATTERN),
        metadata={"description": description, "pattern": DECIMAL_PATTERN},
        **kwargs,
    )


class Strict(Schema):
    """Every field is required in an answer (nullable ones may be null)."""

    class Meta:
        ordered = True


class ErrorSchema(Strict):
    error = fields.String(required=True)
    detail = fields.String(required=True)


class IdName(Strict):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class UnitSchema(Strict):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)


class RegionSchema(Strict):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    units = fields.List(fields.Nested(UnitSchema), required=True)


class RegionsSchema(Strict):
    regions = fields.List(fields.Nested(RegionSchema), required=True)


class MetricSchema(Strict):
    code = fields.String(required=True)
    label = fields.String(required=True)
    unit = fields.String(required=True, validate=validate.OneOf([u.value for u in MetricUnit]))
    description = fields.String(required=True)
    is_higher_worse = fields.Boolean(required=True)
    is_individual = fields.Boolean(required=True)
    is_additive = fields.Boolean(required=True, metadata={"description": "Figures add up across places: totals given."})
    levels = fields.List(
        fields.String(validate=validate.OneOf([level.value for level in Level])),
        required=True,
        metadata={"description": "The levels figures of this metric are kept at."},
    )
    thresholds = fields.List(exact("A threshold"), required=True)


class MetricsSchema(Strict):
    metrics = fields.List(fields.Nested(MetricSchema), required=True)


class SourceSchema(Strict):
    type = fields.String(required=True, validate=validate.OneOf([s.value for s in SourceType]))
    title = fields.String(required=True)
    publisher = fields.String(required=True)
    date = fields.Date(required=True, allow_none=True)
    url = fields.String(required=True, allow_none=True)


class EvidenceItemSchema(Strict):
    reference = fields.String(required=True, metadata={"example": "EV-0001"})
    region = fields.Nested(IdName, required=True, allow_none=True, metadata={"description": "null: a national figure"})
    unit = fields.Nested(IdName, required=True, allow_none=True)
    metric = fields.String(required=True, allow_none=True)
    value = exact(
        "Exact decimal as text, with the places its source gave; null for a statement only, or when withheld "
        "(a figure that could identify fewer than 3 people).",
        required=True,
        allow_none=True,
    )
    is_value_withheld = fields.Boolean(required=True)
    statement = fields.String(required=True, allow_none=True)
    as_of = fields.Date(required=True)
    period_start_on = fields.Date(required=True, allow_none=True)
    grade = fields.String(required=True, allow_none=True)
    source = fields.Nested(SourceSchema, required=True)
    is_verified = fields.Boolean(required=True)
    visibility = fields.String(required=True, validate=validate.OneOf([v.value for v in Visibility]))


class EvidencePageSchema(Strict):
    items = fields.List(fields.Nested(EvidenceItemSchema), required=True)
    per_page = fields.Integer(required=True)
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Send it as `cursor` for the next page; null on the last page."},
    )


class PlaceFigureSchema(Strict):
    region = fields.Nested(IdName, required=True, allow_none=True)
    unit = fields.Nested(IdName, required=True, allow_none=True)
    grade = fields.String(required=True, allow_none=True, metadata={"description": "Grades are never merged."})
    as_of = fields.Date(
        required=True, metadata={"description": "The date the figure describes, as its source gave it."}
    )
    value = exact("The figure, exact; null when withheld.", required=True, allow_none=True)
    is_withheld = fields.Boolean(required=True)
    reference = fields.String(required=True)
    source = fields.Nested(SourceSchema, required=True)


class TotalSchema(Strict):
    grade = fields.String(required=True, allow_none=True)
    total = exact("The exact sum of the places' figures; null when one is withheld.", required=True, allow_none=True)
    places = fields.Integer(required=True)
    is_withheld = fields.Boolean(required=True)


class StatisticsSchema(Strict):
    metric = fields.String(required=True)
    unit = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf([level.value for level in Level]))
    on = fields.Date(required=True)
    is_additive = fields.Boolean(required=True)
    figures = fields.List(fields.Nested(PlaceFigureSchema), required=True)
    totals = fields.List(
        fields.Nested(TotalSchema),
        required=True,
        metadata={"description": "One exact total per grade, for a metric whose figures add up; empty otherwise."},
    )


# ---------------------------------------------------------------------------- query strings


class Bounded(validate.Range):
    message_min = "must be at least {{min}}"
    message_max = "must be at most {{max}}"
    message_all = "must be from {{min}} to {{max}}"


ErrorMessages = dict[str, str | list[Any] | dict[Any, Any]]
DATE_ERRORS: ErrorMessages = {"invalid": "must be a date in the form YYYY-MM-DD"}
BOOLEAN_ERRORS: ErrorMessages = {"invalid": "must be true or false"}
INTEGER_ERRORS: ErrorMessages = {"invalid": "must be a whole number"}


class Query(Schema):
    """A query string: unknown parameters are ignored; a bad value is a 400 naming it."""

    class Meta:
        unknown = "exclude"


class Cursor(fields.Field):
    """Where a page of evidence starts: after the item with this date and id (newest first).

    It travels as opaque text (base64 of ``YYYY-MM-DD/id``): clients send back what a page gave.
    """

    default_error_messages = {"invalid": "is not one this API gave (use next_cursor from the page before)"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[date, int] | None:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        raw = value
        if not raw:  # an empty cursor is the first page
            return None
        try:
            if len(raw) > 64 or not raw.isascii():
                raise ValueError
            text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
            as_of, _, item_id = text.partition("/")
            if len(as_of) != 10 or not item_id.isdigit() or len(item_id) > 10 or not 1 <= int(item_id) <= MAX_ID:
                raise ValueError
            return date.fromisoformat(as_of), int(item_id)
        except (ValueError, UnicodeError):
            raise self.make_error("invalid") from None


def cursor_for(as_of: date, item_id: int) -> str:
    return base64.urlsafe_b64encode(f"{as_of.isoformat()}/{item_id}".encode("ascii")).decode("ascii").rstrip("=")


def _id(description: str) -> fields.Integer:
    return fields.Integer(
        validate=Bounded(min=1, max=MAX_ID), error_messages=INTEGER_ERRORS, metadata={"description": description}
    )


class EvidenceQuery(Query):
    region_id = _id("Only this region.")
    national = fields.Boolean(
        error_messages=BOOLEAN_ERRORS, metadata={"description": "Only national figures (no region)."}
    )
    unit_id = _id("Only this unit.")
    metric = fields.String(
        validate=validate.Length(max=80), metadata={"description": "A metric code; an unknown one is refused (400)."}
    )
    source_type = fields.String(
        validate=validate.OneOf([s.value for s in SourceType], error="must be one of {choices}"),
        metadata={"description": "Only this kind of source."},
    )
    verified = fields.Boolean(
        error_messages=BOOLEAN_ERRORS, metadata={"description": "Only verified (true) or unverified (false) items."}
    )
    date_from = fields.Date(
        data_key="from", error_messages=DATE_ERRORS, metadata={"description": "Only items on or after this date."}
    )
    date_to = fields.Date(
        data_key="to",
        error_messages=DATE_ERRORS,
        metadata={"description": "Only items on or before this date; before `from` is refused (400)."},
    )
    cursor = Cursor(
        metadata={
            "description": "The `next_cursor` of the page before (none for the first page). Pages are read by "
            "position, so a deep page costs what the first one does and an item added meanwhile never shifts one."
        }
    )
    per_page = fields.Integer(
        load_default=50,
        validate=Bounded(min=1, max=MAX_PER_PAGE),
        error_messages=INTEGER_ERRORS,
        metadata={"description": f"Items per page, at most {MAX_PER_PAGE}; more is refused (400)."},
    )

    @validates_schema(pass_original=True)
    def _range(self, data: dict[str, Any], original: Any, **_kwargs: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("must be on or before to", "from")
        if "page" in original:  # offsets are gone: a page number is refused, not silently ignored
            raise ValidationError("is not supported: follow next_cursor from each page", "page")


class StatisticsQuery(Query):
    metric = fields.String(
        required=True,
        validate=validate.Length(min=1, max=80, error="must be a metric code"),
        error_messages={"required": "is required (a metric code, see /api/v1/metrics)"},
        metadata={"description": "A metric code (see /metrics); an unknown one is refused (400)."},
    )
    on = fields.Date(
        error_messages=DATE_ERRORS,
        metadata={"description": "The latest figure of each place on or before this date (today when left out)."},
    )
    level = fields.String(
        load_default=Level.REGION.value,
        validate=validate.OneOf(
            [Level.REGION.value, Level.UNIT.value, Level.NATIONAL.value], error="must be region, unit or national"
        ),
        metadata={"description": "region, unit or national; a level the metric is not kept at is refused (400)."},
    )
    region_id = _id("Only this region (its units, at level unit).")
    grade = fields.String(validate=validate.Length(max=16), metadata={"description": "Only this grade."})


def first_error(error: ValidationError) -> str:
    """The first problem of a bad query string, as "name reason": "per_page must be at most 100"."""
    messages = error.normalized_messages()
    name, reasons = next(iter(messages.items()))
    reason = reasons[0] if isinstance(reasons, list) else str(reasons)
    return str(reason) if name == "_schema" else f"{name} {str(reason).rstrip('.')}"
