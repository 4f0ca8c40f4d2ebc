"""The home-page panel: testimonies waiting for an official."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from ..main.home import Panel, home_panel
from .services import status_counts


@home_panel
def moderation_panel(user: Any) -> Panel | None:
    # Those who moderate testimonies are those who see every region (as views.moderators_only).
    if not getattr(user, "sees_all_regions", False):
        return None
    return Panel(
        title=_("Testimonies"),
        template="testimonies/_panel.html",
        context={"counts": status_counts()},
        link_endpoint="testimonies.moderation",
        link_label=_("Open the moderation queue"),
    )
