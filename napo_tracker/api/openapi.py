"""The OpenAPI 3.0 description served at /api/v1/openapi.json (and checked by Schemathesis)."""

from __future__ import annotations

from typing import Any

from ..evidence.models import MetricUnit, SourceType, Visibility
from ..kernel.ids import MAX_ID

MAX_PER_PAGE = 100

DECIMAL = {
    "type": "string",
    "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
    "description": "An exact decimal, as text (24.43 stays 24.43).",
}
NULLABLE_DECIMAL = {**DECIMAL, "nullable": True}
NULLABLE_STRING = {"type": "string", "nullable": True}
REF = {
    "type": "object",
    "nullable": True,
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}


def _param(name: str, schema: dict, description: str, required: bool = False, where: str = "query") -> dict:
    return {"name": name, "in": where, "required": required, "schema": schema, "description": description}


DATE_FROM = _param("from", {"type": "string", "format": "date"}, "Only items on or after this date (YYYY-MM-DD).")
DATE_TO = _param(
    "to", {"type": "string", "format": "date"}, "Only items on or before this date; before `from` is refused (400)."
)
METRIC = _param("metric", {"type": "string", "maxLength": 80}, "A metric code; an unknown one is refused (400).")
REGION_ID = _param("region_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "Only this region.")

ERRORS = {
    "400": {
        "description": "A bad filter: the detail says which.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
    "401": {
        "description": "No session and no valid Bearer token.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
}


def _ok(schema_ref: str, description: str) -> dict:
    return {
        "200": {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
        },
        **ERRORS,
    }


def openapi_document() -> dict[str, Any]:
    item = {
        "type": "object",
        "required": [
            "reference",
            "region",
            "unit",
            "metric",
            "value",
            "is_value_withheld",
            "statement",
            "as_of",
            "period_start_on",
            "grade",
            "source",
            "is_verified",
            "visibility",
        ],
        "properties": {
            "reference": {"type": "string", "example": "EV-0001"},
            "region": {**REF, "description": "null for a national figure"},
            "unit": REF,
            "metric": NULLABLE_STRING,
            "value": {
                **NULLABLE_DECIMAL,
                "description": "Exact decimal as text; null for a statement only, "
                "or when withheld (fewer than 3 people).",
            },
            "is_value_withheld": {"type": "boolean"},
            "statement": NULLABLE_STRING,
            "as_of": {"type": "string", "format": "date"},
            "period_start_on": {"type": "string", "format": "date", "nullable": True},
            "grade": NULLABLE_STRING,
            "source": {
                "type": "object",
                "required": ["type", "title", "publisher", "date", "url"],
                "properties": {
                    "type": {"type": "string", "enum": [s.value for s in SourceType]},
                    "title": {"type": "string"},
                    "publisher": {"type": "string"},
                    "date": {"type": "string", "format": "date", "nullable": True},
                    "url": NULLABLE_STRING,
                },
            },
            "is_verified": {"type": "boolean"},
            "visibility": {"type": "string", "enum": [v.value for v in Visibility]},
        },
    }
    schemas = {
        "Error": {
            "type": "object",
            "required": ["error", "detail"],
            "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
        },
        "Regions": {
            "type": "object",
            "required": ["regions"],
            "properties": {
                "regions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "name", "units"],
                        "properties": {
                            "id": {"type": "integer"},
                            "name": {"type": "string"},
                            "units": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["id", "name", "kind"],
                                    "properties": {
                                        "id": {"type": "integer"},
                                        "name": {"type": "string"},
                                        "kind": {"type": "string"},
                                    },
                                },
                            },
                        },
                    },
                }
            },
        },
        "Metrics": {
            "type": "object",
            "required": ["metrics"],
            "properties": {
                "metrics": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [
                            "code",
                            "label",
                            "unit",
                            "description",
                            "is_higher_worse",
                            "is_individual",
                            "thresholds",
                        ],
                        "properties": {
                            "code": {"type": "string"},
                            "label": {"type": "string"},
                            "unit": {"type": "string", "enum": [u.value for u in MetricUnit]},
                            "description": {"type": "string"},
                            "is_higher_worse": {"type": "boolean"},
                            "is_individual": {"type": "boolean"},
                            "thresholds": {"type": "array", "items": DECIMAL},
                        },
                    },
                }
            },
        },
        "EvidenceItem": item,
        "EvidencePage": {
            "type": "object",
            "required": ["items", "per_page", "next_cursor"],
            "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/EvidenceItem"}},
                "per_page": {"type": "integer"},
                "next_cursor": {"type": "string", "nullable": True},
            },
        },
        "Statistics": {
            "type": "object",
            "required": ["metric", "unit", "period", "statistics"],
            "properties": {
                "metric": {"type": "string"},
                "unit": {"type": "string"},
                "period": {"type": "string", "enum": ["month", "year"]},
                "statistics": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["region", "region_id", "period", "count", "mean", "min", "max", "is_withheld"],
                        "properties": {
                            "region": NULLABLE_STRING,
                            "region_id": {"type": "integer", "nullable": True},
                            "period": {"type": "string"},
                            "count": {"type": "integer"},
                            "mean": NULLABLE_DECIMAL,
                            "min": NULLABLE_DECIMAL,
                            "max": NULLABLE_DECIMAL,
                            "is_withheld": {"type": "boolean"},
                        },
                    },
                },
            },
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "napo-tracker evidence API",
            "version": "1",
            "description": "Read-only. Log in with a session, or send `Authorization: Bearer <token>` with a "
            "personal token (officials create and revoke them under Evidence → API tokens). "
            f"Pages hold at most {MAX_PER_PAGE} items: a larger per_page is refused with 400, "
            "never clamped. Figures resting on fewer than 3 people's reports (a unit's, a "
            "region's or a national figure) are withheld (null) except for admins.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/regions": {
                "get": {
                    "operationId": "listRegions",
                    "summary": "Regions (a rep's own) and their units",
                    "responses": _ok("Regions", "Regions"),
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "listMetrics",
                    "summary": "Metric definitions",
                    "responses": _ok("Metrics", "Metrics"),
                }
            },
            "/evidence": {
                "get": {
                    "operationId": "listEvidence",
                    "summary": "Evidence items, newest first",
                    "parameters": [
                        REGION_ID,
                        _param("national", {"type": "boolean"}, "Only national figures (no region)."),
                        _param("unit_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "Only this unit."),
                        METRIC,
                        _param(
                            "source_type",
                            {"type": "string", "enum": [s.value for s in SourceType]},
                            "Only this kind of source.",
                        ),
                        _param("verified", {"type": "boolean"}, "Only verified (true) or unverified (false) items."),
                        DATE_FROM,
                        DATE_TO,
                        _param(
                            "cursor",
                            {"type": "string", "maxLength": 64},
                            "Where the page starts: the next_cursor of the page before (none: the first page).",
                        ),
                        _param(
                            "per_page",
                            {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 50},
                            f"Items per page, at most {MAX_PER_PAGE}; more is refused (400).",
                        ),
                    ],
                    "responses": _ok("EvidencePage", "A page of items"),
                }
            },
            "/evidence/{reference}": {
                "get": {
                    "operationId": "getEvidence",
                    "summary": "One evidence item",
                    "parameters": [
                        _param(
                            "reference",
                            {"type": "string", "pattern": "^[A-Za-z0-9-]{1,20}$"},
                            "Its reference, e.g. EV-0001.",
                            required=True,
                            where="path",
                        )
                    ],
                    "responses": {
                        **_ok("EvidenceItem", "The item"),
                        "404": {
                            "description": "No such item, or not one you can see.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                        },
                    },
                }
            },
            "/statistics": {
                "get": {
                    "operationId": "getStatistics",
                    "summary": "Count, min, max and mean per region and period",
                    "parameters": [
                        {**METRIC, "required": True},
                        REGION_ID,
                        _param(
                            "period",
                            {"type": "string", "enum": ["month", "year"], "default": "month"},
                            "Group by calendar month or year.",
                        ),
                        DATE_FROM,
                        DATE_TO,
                    ],
                    "responses": _ok("Statistics", "Statistics"),
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.0 document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "401": ERRORS["401"],
                    },
                }
            },
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A personal API token"},
                "session": {"type": "apiKey", "in": "cookie", "name": "napo_session"},
            },
        },
    }
