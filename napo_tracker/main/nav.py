"""The navigation bar: each entry appears once its endpoint exists and the role allows it."""

from __future__ import annotations

from flask import current_app, request

from ..kernel.vocabulary import STAFF_ROLES, Role

EVERYONE = STAFF_ROLES
OFFICIALS = frozenset({Role.OFFICIAL, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})

# (endpoint, label, roles that see it)
NAV_ITEMS: list[tuple[str, str, frozenset[Role]]] = [
    ("main.index", "Home", EVERYONE),
    ("cases.index", "Cases", EVERYONE),
    ("notices.index", "Notices", EVERYONE),
    ("testimonies.moderation", "Testimonies", OFFICIALS),
    ("evidence.index", "Evidence", EVERYONE),
    ("evidence.dashboard", "Dashboard", EVERYONE),
    ("briefings.index", "Briefings", OFFICIALS),
]

ADMIN_ITEMS: list[tuple[str, str, frozenset[Role]]] = [
    ("accounts.users", "Users", ADMINS),
    ("privacy.requests", "Subject access requests", ADMINS),
    ("regions.index", "Regions and units", EVERYONE),
    ("audit.index", "Audit log", OFFICIALS),
    ("jobs.index", "Background jobs", ADMINS),
]


def _visible(items, user):
    endpoints = current_app.view_functions
    return [
        {
            "endpoint": endpoint,
            "label": label,
            "active": request.endpoint == endpoint
            or (request.blueprint and endpoint.split(".")[0] == request.blueprint and endpoint.endswith(".index")),
        }
        for endpoint, label, roles in items
        if endpoint in endpoints and getattr(user, "role", None) in roles
    ]


def navigation(user) -> dict[str, list[dict]]:
    if not getattr(user, "is_authenticated", False):
        return {"main": [], "admin": []}
    return {"main": _visible(NAV_ITEMS, user), "admin": _visible(ADMIN_ITEMS, user)}
