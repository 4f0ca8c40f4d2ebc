"""Help inside the app: pages built from the Markdown files in ``docs/``.

Which files are help, under which title, and who may read them, is the list below: the
member-facing pages are public (members have no account), the rest need a login. Markdown
is rendered with raw HTML off, so a file's text can never add markup of its own. A Welsh
page is the same file name ending ``.cy.md``; where there is none, the English one is shown.
Each page of the app names its help page in ``HELP_FOR_BLUEPRINT`` (or ``HELP_FOR_ENDPOINT``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask_babel import lazy_gettext as _l
from markdown_it import MarkdownIt
from markupsafe import Markup

DOCS = Path(__file__).resolve().parent.parent.parent / "docs"


@dataclass(frozen=True)
class HelpPage:
    slug: str
    title: object  # a lazy string: shown in the page's language
    is_public: bool


PAGES: tuple[HelpPage, ...] = (
    HelpPage("members", _l("For members: your testimony, step by step"), True),
    HelpPage("testimonies", _l("Anonymous testimonies and moderation"), False),
    HelpPage("cases", _l("Casework"), False),
    HelpPage("notices", _l("Foreseeability notices"), False),
    HelpPage("evidence", _l("Workload evidence, dashboards and the API"), False),
    HelpPage("briefings", _l("Briefings"), False),
    HelpPage("privacy", _l("Members' data protection"), False),
)
BY_SLUG = {page.slug: page for page in PAGES}

# The help page of each part of the app; the members' page for the public ones.
HELP_FOR_ENDPOINT = {
    "testimonies.submit": "members",
    "testimonies.receipt": "members",
    "testimonies.status": "members",
    "privacy.notice": "members",
}
HELP_FOR_BLUEPRINT = {
    "testimonies": "testimonies",
    "cases": "cases",
    "notices": "notices",
    "evidence": "evidence",
    "briefings": "briefings",
    "privacy": "privacy",
}

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").disable("image")


def help_slug_for(endpoint: str | None, blueprint: str | None) -> str | None:
    if endpoint in HELP_FOR_ENDPOINT:
        return HELP_FOR_ENDPOINT[endpoint]
    return HELP_FOR_BLUEPRINT.get(blueprint or "")


def visible_pages(is_signed_in: bool) -> list[HelpPage]:
    return [page for page in PAGES if page.is_public or is_signed_in]


def source_path(slug: str, language: str) -> Path:
    if language != "en":
        translated = DOCS / f"{slug}.{language}.md"
        if translated.is_file():
            return translated
    return DOCS / f"{slug}.md"


@lru_cache(maxsize=64)
def _read(path: Path, mtime: float) -> str:
    return path.read_text(encoding="utf-8")


def source(slug: str, language: str) -> str:
    path = source_path(slug, language)
    return _read(path, path.stat().st_mtime)


def rendered(slug: str, language: str) -> Markup:
    return Markup(_MD.render(source(slug, language)))  # HTML off: the file's own markup is shown as text


@dataclass(frozen=True)
class Hit:
    page: HelpPage
    score: int
    snippets: list[str]


SNIPPETS_PER_PAGE = 3
MAX_QUERY = 200


def search(query: str, pages: list[HelpPage], language: str) -> list[Hit]:
    """Pages whose text holds every word of the query (any case), best first, with the
    lines that match as plain-text snippets."""
    words = [word.casefold() for word in re.findall(r"\w+", query[:MAX_QUERY]) if len(word) > 1]
    if not words:
        return []
    hits = []
    for page in pages:
        text = source(page.slug, language)
        folded = text.casefold()
        if not all(word in folded for word in words):
            continue
        score = sum(folded.count(word) for word in words)
        lines = [line.strip(" #*-`>") for line in text.splitlines()]
        snippets = [line for line in lines if line and any(word in line.casefold() for word in words)]
        hits.append(Hit(page, score, snippets[:SNIPPETS_PER_PAGE]))
    return sorted(hits, key=lambda hit: -hit.score)
