"""Static checks over every page template: CSRF in each POST form, nothing the CSP would block."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.S | re.I)


def _page_templates() -> list[Path]:
    # PDF templates are rendered by WeasyPrint, not a browser: the page CSP does not apply.
    return [p for p in TEMPLATES.rglob("*.html") if "pdf" not in p.relative_to(TEMPLATES).parts]


INCLUDE = re.compile(r"{%-?\s*include\s+[\"']([^\"']+)[\"']")


def _with_includes(body: str) -> str:
    """The form's body with the partials it includes spelled out (one level is enough here)."""
    return body + "".join(
        (TEMPLATES / name).read_text() for name in INCLUDE.findall(body) if (TEMPLATES / name).is_file()
    )


def test_every_post_form_carries_a_csrf_token():
    missing = []
    for path in _page_templates():
        for match in FORM.finditer(path.read_text()):
            if re.search(r"method=[\"']?post", match.group("attrs"), re.I) and not re.search(
                r"csrf_token|hidden_tag\(", _with_includes(match.group("body"))
            ):
                missing.append(f"{path.relative_to(TEMPLATES)}: <form{match.group('attrs')}>")
    assert not missing, "POST forms without a CSRF token:\n" + "\n".join(missing)


def test_no_inline_script_or_style_in_pages():
    offenders = []
    for path in _page_templates():
        text = path.read_text()
        for pattern, what in (
            (r"<script(?![^>]*\bsrc=)[^>]*>", "inline <script>"),
            (r"\sstyle\s*=", "style= attribute"),
            (r"<style\b", "<style> element"),
            (r"\son[a-z]+\s*=\s*[\"']", "inline event handler"),
        ):
            if re.search(pattern, text, re.I):
                offenders.append(f"{path.relative_to(TEMPLATES)}: {what}")
    assert not offenders, "The Content-Security-Policy would block:\n" + "\n".join(offenders)
