"""The home-page panel: testimonies waiting for an official."""

from __future__ import annotations

from ..main.home import Panel, home_panel
from .services import status_counts


@home_panel
def moderation_panel(user) -> Panel | None:
    if getattr(user, "role", None) not in ("official", "admin"):
        return None
    return Panel(
        title="Testimonies",
        template="testimonies/_panel.html",
        context={"counts": status_counts()},
        link_endpoint="testimonies.moderation",
        link_label="Open the moderation queue",
    )
