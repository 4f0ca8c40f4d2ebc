"""Text a person reads that is not yet marked for translation, file by file.

    .venv/bin/python scripts/unmarked-strings.py [PATH ...]      (default: templates/ and napo_tracker/)

In a template: words in the page's own text, or in an attribute a person reads or hears
(``title``, ``aria-label``, ``placeholder``, ``alt``, a button's ``value``), outside ``{{ _(…) }}``
and ``{% trans %}``. In Python: a literal string handed to ``flash()``, to a form field as its
label or description, or to a validator as its message, without ``_()``/``_l()``.

Prints ``path:line: text`` for each and exits 1 when there is any; ``tests/test_i18n.py`` runs it
over every file, so a page added with English in it fails the suite.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment

ROOT = Path(__file__).resolve().parent.parent

# Attributes whose value is read or announced to a person.
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "aria-description", "aria-roledescription"}
# Symbols, units and codes that read the same in every language.
WORD = re.compile(r"[^\W\d_]{2,}")
NOT_WORDS = set(
    "cy en tracker pdf csv ics ok id wmt napo mps mp nbsp ndash mdash hellip amp times middot rarr larr "
    "larrb raquo laquo zwj thinsp rsquo lsquo ldquo rdquo quot pound percnt lt gt xlsx sha utc url html js "
    "svg png docx odt totp api ical json zip gb kb mb px".split()
)
# Elements whose text is code (a command to type, a script), not words to translate.
SKIPPED_TAGS = ("script", "style", "code", "kbd", "samp")
# Field classes whose first argument is the label a person reads.
FIELD = re.compile(r"(Field|Select|Radio|Check|Submit|Area)\w*$")
VALIDATOR_MESSAGE_KEYWORDS = {"message"}
READ_KEYWORDS = {"title", "link_label"}
# Python files with no words for a translator: demo data is content, and the API's description
# (OpenAPI) is read by programmers, in English like the API itself.
SKIPPED_FILES = {"demo.py", "openapi.py"}
MARKERS = {"_", "_l", "gettext", "lazy_gettext", "ngettext", "lazy_ngettext", "N_", "pgettext"}


def _words(text: str) -> list[str]:
    return [word for word in WORD.findall(text) if word.lower() not in NOT_WORDS]


class _TemplateText(HTMLParser):
    """The text of a template's literal parts, and the read attributes of its tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[tuple[int, str]] = []
        self._skip = 0  # inside <script>, <style>, <code> or <kbd>: code, not words

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self._skip += 1
        for name, value in attrs:
            # A button's value is sent, not shown (its content is what reads); an input button's is shown.
            if value and (name in READ_ATTRIBUTES or (name == "value" and tag == "input")):
                if name == "value" and dict(attrs).get("type") not in ("submit", "button", "reset"):
                    continue
                if _words(value):
                    self.found.append((self.getpos()[0], f'{name}="{value}"'))

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and _words(data):
            self.found.append((self.getpos()[0], " ".join(data.split())))


def template_findings(path: Path) -> Iterator[tuple[int, str]]:
    """Literal text of a template, with every Jinja expression, statement and comment taken out
    (each replaced by a neutral marker, so an attribute built from an expression stays whole)."""
    source = path.read_text(encoding="utf-8")
    env = Environment(extensions=["jinja2.ext.i18n"])
    pieces: list[str] = []
    depth = 0  # inside {% trans %} … {% endtrans %}
    for _line, kind, value in env.lex(source):
        if kind == "data":
            pieces.append("\x00" if depth else value)
            continue
        if kind == "name" and value in ("trans", "pluralize"):
            depth += value == "trans"
        elif kind == "name" and value == "endtrans":
            depth -= 1
        # Keep the line count: every token's own newlines stay in place.
        pieces.append("\n" * value.count("\n") if isinstance(value, str) else "")
    parser = _TemplateText()
    parser.feed("".join(pieces).replace("\x00", ""))
    parser.close()
    yield from parser.found


def _is_literal(node: ast.expr | None) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(_words(node.value))) or (
        isinstance(node, ast.JoinedStr)
        and any(isinstance(part, ast.Constant) and _words(str(part.value)) for part in node.values)
    )


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def python_findings(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        # A service's refusal (a DomainError's message) is not one of the strings checked here.
        if name in MARKERS or name.endswith("Error"):
            continue
        candidates: list[ast.expr] = []
        if name == "flash" and node.args:
            candidates.append(node.args[0])
        if FIELD.search(name) and name[:1].isupper():
            candidates.extend(node.args[:1])
            candidates.extend(k.value for k in node.keywords if k.arg in ("label", "description"))
        # A page's, a panel's, a chart's or a job's title, and a link's words, wherever they are given.
        candidates.extend(k.value for k in node.keywords if k.arg in READ_KEYWORDS)
        if name[:1].isupper():  # a validator (a class); a function's message= is a service's
            candidates.extend(k.value for k in node.keywords if k.arg in VALIDATOR_MESSAGE_KEYWORDS)
        for candidate in candidates:
            if _is_literal(candidate):
                yield candidate.lineno, ast.unparse(candidate)


def findings(paths: list[Path]) -> Iterator[tuple[Path, int, str]]:
    for base in paths:
        files = [base] if base.is_file() else sorted(base.rglob("*"))
        for path in files:
            if path.suffix == ".html":
                yield from ((path, line, text) for line, text in template_findings(path))
            elif path.suffix == ".py" and path.name not in SKIPPED_FILES:
                yield from ((path, line, text) for line, text in python_findings(path))


def main(arguments: list[str]) -> int:
    paths = [Path(argument) for argument in arguments] or [ROOT / "templates", ROOT / "napo_tracker"]
    count = 0
    for path, line, text in findings(paths):
        count += 1
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{line}: {text}")
    return 1 if count else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
