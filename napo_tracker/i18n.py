"""Languages: English and Welsh through Flask-Babel.

The language is chosen by the ``lang`` query parameter (``?lang=cy``) and carried on every
link and redirect the app builds, so nothing is stored about the visitor: no cookie, no
session key, no account setting. An unknown code is English, without an error. A string
with no Welsh translation is shown in English.

Catalogues live in ``napo_tracker/translations/`` (``make translations`` extracts, updates
and compiles them; the compiled ``.mo`` files are committed so a clean checkout works).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_date
from flask import Flask, current_app, g, request, url_for
from flask_babel import Babel, force_locale, gettext
from flask_login import current_user

from .kernel.labels import N_

# The code in the URL, the Babel locale it selects, and the HTML lang attribute.
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("en_GB", "en-GB"),
    "cy": ("cy", "cy"),
}
DEFAULT_LANGUAGE = "en"
# The switch offers each language in its own words.
LANGUAGE_NAMES = {"en": "English", "cy": "Cymraeg"}

babel = Babel()


def requested_language() -> str:
    """The ``lang`` of this request when it is one we have, else English."""
    if not request:
        return DEFAULT_LANGUAGE
    code = request.args.get("lang", "", type=str).strip().lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    lang = g.get("napo_lang")
    if lang is None:
        lang = requested_language()
        g.napo_lang = lang
    return lang


def _select_locale() -> str:
    return LANGUAGES[current_language()][0]


def _carry_language(endpoint: str | None, values: dict[str, Any]) -> None:
    """Every URL the app builds keeps the visitor's language (static files need none)."""
    if not request or endpoint in (None, "static", "bootstrap.static"):
        return
    lang = current_language()
    if lang != DEFAULT_LANGUAGE:
        values.setdefault("lang", lang)


def language_switch() -> list[dict[str, Any]]:
    """This page in each other language: same endpoint, arguments and query, another ``lang``.
    A page answering a form (a POST) links to the same address, without what was sent."""
    endpoint = request.endpoint
    # An error page links to the start, not to its own address: a 404 for another region's
    # record must read exactly like a 404 for a missing one.
    if g.get("napo_error_page") or endpoint is None or not _answers_get(endpoint):
        signed_in = getattr(current_user, "is_authenticated", False)
        endpoint, view_args, args = ("main.index" if signed_in else "testimonies.submit"), {}, {}
    else:
        view_args = dict(request.view_args or {})
        args = request.args.to_dict() if request.method == "GET" else {}
    return [
        {
            "code": code,
            "name": name,
            # The code is always explicit, so a carried language is not added back.
            "url": url_for(endpoint, **{**args, **view_args, "lang": code}),
            "html_lang": LANGUAGES[code][1],
        }
        for code, name in LANGUAGE_NAMES.items()
        if code != current_language()
    ]


# The languages a document's fixed words (a briefing's headings, a letter's date line) can be
# printed in, whatever the page around them is in: its own words are its author's. Bilingual
# puts the Welsh first, then the English, as Welsh public bodies do.
DOCUMENT_LANGUAGES: dict[str, str] = {
    "en": N_("English"),
    "cy": N_("Welsh"),
    "both": N_("Welsh and English"),
}


def in_document_language(language: str, message: str, **variables: Any) -> str:
    """A document's fixed words in ``language`` (``DOCUMENT_LANGUAGES``); a variable that is
    itself a fixed word (an audience's label) is put in Welsh too."""
    english = message % variables if variables else message
    if language not in ("cy", "both"):
        return english
    with force_locale("cy"):
        welsh_variables = {name: gettext(v) if isinstance(v, str) and v else v for name, v in variables.items()}
        welsh = gettext(message, **welsh_variables)
    return welsh if language == "cy" else f"{welsh} / {english}"


def document_date(on: date, language: str) -> str:
    """A document's date in ``language``: '2 December 2026', '2 Rhagfyr 2026', or both."""
    english = format_date(on, "d MMMM y", locale="en_GB")
    if language not in ("cy", "both"):
        return english
    welsh = format_date(on, "d MMMM y", locale="cy")
    return welsh if language == "cy" else f"{welsh} / {english}"


def _answers_get(endpoint: str) -> bool:
    return any("GET" in (rule.methods or ()) for rule in current_app.url_map.iter_rules(endpoint))


def html_lang() -> str:
    return LANGUAGES[current_language()][1]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=_select_locale, default_translation_directories="translations")
    # {% trans %} blocks are looked up with their white space collapsed, as babel.cfg extracts them.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.url_defaults(_carry_language)

    @app.context_processor
    def _language() -> dict[str, Any]:
        return {"html_lang": html_lang, "language_switch": language_switch, "current_language": current_language}
