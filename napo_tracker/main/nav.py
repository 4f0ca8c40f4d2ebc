"""The navigation bar: each entry appears once its endpoint exists and the role allows it."""

from __future__ import annotations

from flask import current_app, request

# (endpoint, label, roles that see it)
NAV_ITEMS: list[tuple[str, str, tuple[str, ...]]] = [
    ("main.index", "Home", ("rep", "official", "admin")),
    ("cases.index", "Cases", ("rep", "official", "admin")),
    ("notices.index", "Notices", ("rep", "official", "admin")),
    ("testimonies.moderation", "Testimonies", ("official", "admin")),
    ("evidence.index", "Evidence", ("rep", "official", "admin")),
    ("evidence.dashboard", "Dashboard", ("rep", "official", "admin")),
    ("briefings.index", "Briefings", ("official", "admin")),
]

ADMIN_ITEMS: list[tuple[str, str, tuple[str, ...]]] = [
    ("accounts.users", "Users", ("admin",)),
    ("regions.index", "Regions and units", ("admin", "official", "rep")),
    ("audit.index", "Audit log", ("admin", "official")),
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
