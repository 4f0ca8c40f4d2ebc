"""Demo accounts, one for each role: printed by `flask demo load`, never for production."""

from __future__ import annotations

from collections.abc import Callable

from ..extensions import db
from ..regions.models import region_by_name
from .models import user_by_email
from .services import create_user

# (email, name, role, regions, password)
DEMO_USERS = [
    ("admin@demo.napo-tracker.test", "Alex Admin", "admin", [], "quiet orchard lantern 41"),
    ("official@demo.napo-tracker.test", "Nia National-Official", "official", [], "copper meadow signal 27"),
    ("rep.london@demo.napo-tracker.test", "Sam London-Rep", "rep", ["London"], "amber ferry window 63"),
    ("rep.wales@demo.napo-tracker.test", "Rhys Wales-Rep", "rep", ["Wales"], "silver estuary kettle 58"),
    (
        "rep.midlands@demo.napo-tracker.test",
        "Priya Midlands-Rep",
        "rep",
        ["West Midlands", "East Midlands"],
        "maple canal compass 19",
    ),
]


def load(echo: Callable[[str], None]) -> None:
    for email, name, role, regions, password in DEMO_USERS:
        if user_by_email(email) is None:
            create_user(
                None,
                email=email,
                display_name=name,
                role=role,
                password=password,
                regions=[region for name in regions if (region := region_by_name(name)) is not None],
            )
    db.session.flush()
