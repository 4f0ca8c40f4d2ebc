"""The OpenAPI 3.0 description served at /api/v1/openapi.json (and checked by Schemathesis).

Built by apispec from the marshmallow schemas in ``schemas.py``, the same classes the views
load their query strings and dump their answers with: a field added to an answer or a
parameter is in the document at once, and cannot drift from it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from .schemas import (
    MAX_PER_PAGE,
    Cursor,
    ErrorSchema,
    EvidenceItemSchema,
    EvidencePageSchema,
    EvidenceQuery,
    MetricsSchema,
    RegionsSchema,
    StatisticsQuery,
    StatisticsSchema,
)

__all__ = ["MAX_PER_PAGE", "openapi_document"]

DESCRIPTION = (
    "Read-only. Log in with a session, or send `Authorization: Bearer <token>` with a personal token "
    "(officials create and revoke them under Evidence → API tokens). "
    f"Pages hold at most {MAX_PER_PAGE} items: a larger per_page is refused with 400, never clamped. "
    "Figures keep the decimal places their sources gave, as text. A figure that could identify one or "
    "two people (one unit's figure resting on their reports, with no consent or official's override) "
    "is withheld (null) except for admins; figures from public sources never are."
)


def _responses(schema: str, description: str, *, not_found: bool = False) -> dict[str, Any]:
    error = {"application/json": {"schema": "Error"}}
    responses: dict[str, Any] = {
        "200": {"description": description, "content": {"application/json": {"schema": schema}}},
        "400": {"description": "A bad parameter: the detail says which and why.", "content": error},
        "401": {"description": "No session and no valid Bearer token.", "content": error},
    }
    if not_found:
        responses["404"] = {"description": "No such item, or not one you can see.", "content": error}
    return responses


@cache
def openapi_document() -> dict[str, Any]:
    marshmallow = MarshmallowPlugin()
    spec = APISpec(
        title="napo-tracker evidence API",
        version="1",
        openapi_version="3.0.3",
        plugins=[marshmallow],
        info={"description": DESCRIPTION},
        servers=[{"url": "/api/v1"}],
        security=[{"bearer": []}, {"session": []}],
    )
    marshmallow.map_to_openapi_type(Cursor, "string", None)  # opaque text the API gave
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "description": "A personal token"})
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "napo_session"})
    for name, schema in (
        ("Error", ErrorSchema),
        ("Regions", RegionsSchema),
        ("Metrics", MetricsSchema),
        ("EvidenceItem", EvidenceItemSchema),
        ("EvidencePage", EvidencePageSchema),
        ("Statistics", StatisticsSchema),
    ):
        spec.components.schema(name, schema=schema)
    spec.path(
        "/regions",
        operations={
            "get": {
                "operationId": "listRegions",
                "summary": "Regions (a rep's own) and their units",
                "responses": _responses("Regions", "Regions"),
            }
        },
    )
    spec.path(
        "/metrics",
        operations={
            "get": {
                "operationId": "listMetrics",
                "summary": "Metric definitions",
                "responses": _responses("Metrics", "Metrics"),
            }
        },
    )
    spec.path(
        "/evidence",
        operations={
            "get": {
                "operationId": "listEvidence",
                "summary": "Evidence items, newest first",
                "parameters": [{"in": "query", "schema": EvidenceQuery}],
                "responses": _responses("EvidencePage", "A page of items"),
            }
        },
    )
    spec.path(
        "/evidence/{reference}",
        operations={
            "get": {
                "operationId": "getEvidence",
                "summary": "One evidence item",
                "parameters": [
                    {
                        "name": "reference",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,20}$"},
                        "description": "Its reference, e.g. EV-0001.",
                    }
                ],
                "responses": _responses("EvidenceItem", "The item", not_found=True),
            }
        },
    )
    spec.path(
        "/statistics",
        operations={
            "get": {
                "operationId": "getStatistics",
                "summary": "The latest figure per place on or before a date, and the exact total of an additive metric",
                "parameters": [{"in": "query", "schema": StatisticsQuery}],
                "responses": _responses("Statistics", "Each place's latest figure, and the totals"),
            }
        },
    )
    spec.path(
        "/openapi.json",
        operations={
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.0 document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "401": {
                        "description": "No session and no valid Bearer token.",
                        "content": {"application/json": {"schema": "Error"}},
                    },
                },
            }
        },
    )
    return spec.to_dict()
