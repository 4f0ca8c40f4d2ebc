"""The navigation bar: each entry appears once its endpoint exists and the role allows it."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request, url_for

from ..kernel.labels import N_
from ..kernel.vocabulary import STAFF_ROLES, Role

EVERYONE = STAFF_ROLES
OFFICIALS = frozenset({Role.OFFICIAL, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})

# (endpoint, label, roles that see it)
NAV_ITEMS: list[tuple[str, str, frozenset[Role]]] = [
    ("main.index", N_("Home"), EVERYONE),
    ("notifications.inbox", N_("Inbox"), EVERYONE),
    ("cases.index", N_("Cases"), EVERYONE),
    ("notices.index", N_("Notices"), EVERYONE),
    ("testimonies.moderation", N_("Testimonies"), OFFICIALS),
    ("evidence.index", N_("Evidence"), EVERYONE),
    ("evidence.dashboard", N_("Dashboard"), EVERYONE),
    ("briefings.index", N_("Briefings"), OFFICIALS),
]

ADMIN_ITEMS: list[tuple[str, str, frozenset[Role]]] = [
    ("accounts.users", N_("Users"), ADMINS),
    ("privacy.requests", N_("Subject access requests"), ADMINS),
    ("regions.index", N_("Regions and units"), EVERYONE),
    ("audit.index", N_("Audit log"), OFFICIALS),
    ("jobs.index", N_("Background jobs"), ADMINS),
    ("cases.deadline_types", N_("Deadline types"), ADMINS),
    ("letters.templates", N_("Letter templates"), ADMINS),
]

NO_NAVIGATION: dict[str, list[dict[str, Any]]] = {"main": [], "admin": []}


def _links_for(role: str | None) -> tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, str, str], ...]]:
    """(endpoint, label, url) of the entries a role sees, built once per app, role and mount
    point: the links never change while the app runs, only which one is active."""
    cache: dict[tuple[str | None, str, str], Any] = current_app.extensions.setdefault("napo_nav_links", {})
    key = (role, request.script_root, request.args.get("lang", ""))  # links carry the language
    if key not in cache:
        endpoints = current_app.view_functions

        def links(items: list[tuple[str, str, frozenset[Role]]]) -> tuple[tuple[str, str, str], ...]:
            return tuple(
                (endpoint, label, url_for(endpoint))
                for endpoint, label, roles in items
                if endpoint in endpoints and role in roles
            )

        main, admin = links(NAV_ITEMS), links(ADMIN_ITEMS)
        if len(admin) < 2:
            # A menu of one entry the role can open (a rep's regions) is no menu: a plain link.
            main, admin = main + admin, ()
        cache[key] = (main, admin)
    return cache[key]


def _is_active(endpoint: str) -> bool:
    return request.endpoint == endpoint or bool(
        request.blueprint and endpoint.split(".")[0] == request.blueprint and endpoint.endswith(".index")
    )


def navigation(user) -> dict[str, list[dict[str, Any]]]:
    """The entries the user sees, built once per request however many templates render."""
    if not getattr(user, "is_authenticated", False):
        return NO_NAVIGATION
    built = g.get("napo_navigation")
    if built is None:
        main, admin = _links_for(getattr(user, "role", None))
        built = {
            name: [
                {"endpoint": endpoint, "label": label, "url": url, "active": _is_active(endpoint)}
                for endpoint, label, url in links
            ]
            for name, links in (("main", main), ("admin", admin))
        }
        g.napo_navigation = built
    return built
