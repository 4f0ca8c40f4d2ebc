"""Section bodies are Markdown, rendered with raw HTML disabled: no HTML a user typed ever
reaches a page or a PDF, it shows as the literal text it is.

Figures are cited with a token the evidence picker inserts: ``[=EV-0001]`` prints the
item's value and its reference number, ``[EV-0001]`` the reference number alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markdown_it import MarkdownIt
from markupsafe import Markup

# Deeper nesting than this is refused by the form and cut off by the renderer.
MAX_NESTING = 12
CITATION = re.compile(r"\[(=?)(EV-[A-Za-z0-9][A-Za-z0-9-]{0,30})\]")


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "maxNesting": MAX_NESTING, "linkify": False})
    # Images would make the renderer fetch a URL; a briefing's images are its charts.
    md.disable("image")

    def shift_headings(state) -> None:
        # A section's own heading is h2: headings in its body start at h3.
        for token in state.tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"

    md.core.ruler.push("shift_headings", shift_headings)
    return md


_MD = _parser()


def nesting_depth(text: str) -> int:
    """How deeply the Markdown nests blocks (lists in lists, quotes in quotes)."""
    md = MarkdownIt("commonmark", {"html": False, "maxNesting": MAX_NESTING * 4})
    depth = deepest = 0
    for token in md.parse(text):
        depth += token.nesting
        deepest = max(deepest, depth)
    return deepest


def cited_references(text: str) -> list[str]:
    """The evidence references cited in the text, in order of first appearance."""
    seen: list[str] = []
    for match in CITATION.finditer(text or ""):
        if match.group(2) not in seen:
            seen.append(match.group(2))
    return seen


def render_markdown(text: str, cite: Callable[[str, bool], str] | None = None) -> Markup:
    """Markdown to HTML with raw HTML escaped; ``cite(reference, with_value)`` returns the HTML
    for each citation token (already escaped) or the token is left as literal text."""
    html = _MD.render(text or "")
    if cite is not None:
        html = CITATION.sub(lambda m: cite(m.group(2), m.group(1) == "=") or m.group(0), html)
    return Markup(html)
