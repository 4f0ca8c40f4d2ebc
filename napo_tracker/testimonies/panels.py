"""The home-page panel: testimonies waiting for an official."""

from __future__ import annotations

from typing import Any

from ..main.home import Panel, home_panel
from .services import status_counts


@home_panel
def moderation_panel(user: Any) -> Panel | None:
    # Those who moderate testimonies are those who see every region (as views.moderators_only).
    if not getattr(user, "sees_all_regions", False):
        return None
    return Panel(
        title="Testimonies",
        template="testimonies/_panel.html",
        context={"counts": status_counts()},
        link_endpoint="testimonies.moderation",
        link_label="Open the moderation queue",
    )
