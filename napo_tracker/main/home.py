"""The home page is made of panels that each domain contributes.

A provider is a function ``(user) -> Panel | None``; domains add theirs to
``PANEL_PROVIDERS`` (in the order they should appear) from their package's import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Panel:
    title: str
    template: str  # a partial under templates/, rendered with ``panel`` in its context
    context: dict[str, Any] = field(default_factory=dict)
    link_endpoint: str | None = None
    link_label: str | None = None


PANEL_PROVIDERS: list[Callable[[Any], Panel | None]] = []


def home_panel(provider: Callable[[Any], Panel | None]) -> Callable[[Any], Panel | None]:
    """Decorator: register a home-page panel provider."""
    PANEL_PROVIDERS.append(provider)
    return provider


def home_panels(user) -> list[Panel]:
    return [panel for provider in PANEL_PROVIDERS if (panel := provider(user)) is not None]
