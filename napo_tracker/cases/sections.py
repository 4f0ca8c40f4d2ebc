"""Sections that other domains add to a case's page.

Notices build on cases, not the reverse: the notices domain registers the section that
lists the notices served about a case, and the case page shows whatever is registered.
A provider is ``(user, case) -> Panel | None``; ``None`` leaves the section out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..main.home import Panel
from .models import Case

SectionProvider = Callable[[Any, Case], Panel | None]
CASE_PAGE_SECTIONS: list[SectionProvider] = []


def case_page_section(provider: SectionProvider) -> SectionProvider:
    """Decorator: add a section to every case page, in the order registered."""
    CASE_PAGE_SECTIONS.append(provider)
    return provider


def case_page_sections(user: Any, case: Case) -> list[Panel]:
    return [section for provider in CASE_PAGE_SECTIONS if (section := provider(user, case)) is not None]
