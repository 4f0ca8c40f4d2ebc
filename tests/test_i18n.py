"""Languages: Welsh by ?lang=cy on every link, English for anything else, catalogues complete
for the public pages and compiled, Welsh testimonies kept as written."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import flask_babel
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import g
from jinja2.ext import babel_extract

from napo_tracker.extensions import db
from napo_tracker.testimonies import services
from napo_tracker.testimonies.models import Grade, ServiceBand, TestimonyStatus, Topic
from napo_tracker.testimonies.redaction import suggest_redaction

from . import factories
from .helpers import submit
from .testimonies.conftest import form_data

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "napo_tracker" / "translations"
WELSH_PO = TRANSLATIONS / "cy" / "LC_MESSAGES" / "messages.po"
WELSH_MO = TRANSLATIONS / "cy" / "LC_MESSAGES" / "messages.mo"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}

# What a member reads: these files' strings must all be in Welsh before they ship.
PUBLIC_TEMPLATES = [
    "templates/base.html",
    "templates/_macros/forms.html",
    "templates/errors/error.html",
    "templates/testimonies/submit.html",
    "templates/testimonies/receipt.html",
    "templates/testimonies/status.html",
    "templates/privacy/notice.html",
    "templates/help/index.html",
    "templates/help/page.html",
    "templates/help/search.html",
    "templates/help/_search_form.html",
    "templates/accounts/login.html",
    "templates/accounts/forgot.html",
    "templates/accounts/reset.html",
    "templates/accounts/second_factor.html",
]
PUBLIC_MODULES = [
    "napo_tracker/testimonies/forms.py",
    "napo_tracker/accounts/forms.py",
    "napo_tracker/errors.py",
    "napo_tracker/schedule.py",
]
# Labels a member sees on the form and the status page (enums marked with N_).
PUBLIC_LABELS = [
    *(grade.label for grade in Grade),
    *(band.label for band in ServiceBand),
    *(topic.label for topic in Topic),
    *(status.member_label for status in TestimonyStatus),
]


def _public_msgids() -> set[str]:
    ids: set[str] = set()
    for name in PUBLIC_TEMPLATES:
        with open(ROOT / name, "rb") as handle:
            for _line, _function, message, _comments in babel_extract(handle, list(KEYWORDS), [], {"trimmed": "true"}):
                first = message if isinstance(message, str) or message is None else next(iter(message))
                if first:  # a call on a variable (`_(item.label)`) has no literal to extract
                    ids.add(first)
    for name in PUBLIC_MODULES:
        for _line, message, _comments, _context in extract_from_file("python", str(ROOT / name), KEYWORDS):
            ids.add(message if isinstance(message, str) else message[0])
    ids.update(PUBLIC_LABELS)
    ids.discard("")
    return ids


def _welsh_catalogue():
    with open(WELSH_PO, "rb") as handle:
        return read_po(handle, locale="cy")


def test_every_public_string_has_its_welsh():
    catalogue = _welsh_catalogue()
    untranslated = []
    for msgid in sorted(_public_msgids()):
        message = catalogue.get(msgid) or next(
            (m for m in catalogue if isinstance(m.id, tuple) and m.id[0] == msgid), None
        )
        strings = message.string if message else None
        if not message or "fuzzy" in message.flags or not strings or (isinstance(strings, tuple) and not all(strings)):
            untranslated.append(msgid)
    assert not untranslated, "public strings with no Welsh (run `make translations`, then translate):\n" + "\n".join(
        untranslated
    )


def _frozen(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def test_the_compiled_catalogue_matches_its_source():
    """The .mo files are committed: one older than its .po would serve stale Welsh."""
    with open(WELSH_MO, "rb") as handle:
        compiled = read_mo(handle)
    source = {
        _frozen(m.id): _frozen(m.string)
        for m in _welsh_catalogue()
        if m.id
        and m.string
        and all(_frozen(m.string) if isinstance(m.string, tuple) else (m.string,))
        and "fuzzy" not in m.flags
    }
    served = {_frozen(m.id): _frozen(m.string) for m in compiled if m.id}
    assert {key: value for key, value in served.items() if key in source} == source, "run `make translations-compile`"
    # Babel compiles an untranslated plural as its English forms: that is English, not stale Welsh.
    extra = {key: value for key, value in served.items() if key not in source}
    assert all(set(_as_tuple(value)) <= set(_as_tuple(key)) for key, value in extra.items()), (
        "run `make translations-compile`"
    )


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


def test_placeholders_survive_translation():
    for message in _welsh_catalogue():
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"%\(\w+\)[sd]", ids[-1]))
        for text in strings:
            assert set(re.findall(r"%\(\w+\)[sd]", text)) <= wanted | set(re.findall(r"%\(\w+\)[sd]", ids[0])), text
            assert text.count("<") == ids[0].count("<"), text  # the same markup, in Welsh


def test_welsh_is_asked_for_in_the_url_and_carried_on_every_link(client, world):
    response = client.get("/testimony?lang=cy")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="cy">' in html
    assert "Dywedwch wrth yr undeb beth mae eich llwyth gwaith yn ei wneud" in html
    assert "Staff llys" in html and "Llwyth gwaith" in html  # enum labels in the form's choices
    assert 'href="/testimony/status?lang=cy"' in html
    assert 'href="/privacy?lang=cy#testimonies"' in html
    # The switch offers English, in English, and nothing about the choice is kept in a cookie.
    assert 'lang="en-GB"' in html and ">English</a>" in html
    for cookie in response.headers.getlist("Set-Cookie"):
        assert "lang" not in cookie.lower() and "cy" not in cookie.split(";")[0].split("=")[0]
    with client.session_transaction() as session:
        assert not any("lang" in key or "locale" in key for key in session)
    english = client.get("/testimony").get_data(as_text=True)
    assert '<html lang="en-GB">' in english and "Tell the union what your workload is doing" in english
    assert ">Cymraeg</a>" in english


@pytest.mark.parametrize("code", ["xx", "CY-GB'", "", "en-US", "<script>", "fr"])
def test_an_unknown_language_is_english_without_an_error(client, world, code):
    response = client.get("/testimony", query_string={"lang": code})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="en-GB">' in html and "Tell the union what your workload is doing" in html
    assert "<script>" not in html.split("</head>")[1].split("<script")[0]


def test_a_redirect_keeps_the_language(client, world):
    response = submit(client, "/testimony?lang=cy", form_data())
    assert response.status_code == 302 and response.headers["Location"].endswith("/testimony/receipt?lang=cy")
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Diolch. Mae eich tystiolaeth gennym." in receipt


def test_form_errors_are_in_welsh(client, world):
    response = submit(client, "/testimony?lang=cy", form_data(text=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Ysgrifennwch yr hyn rydych am ei ddweud wrthym." in html
    assert 'role="alert"' in html and 'aria-describedby="text-hint text-error"' in html


WELSH_WITH_ENGLISH = (
    "Mae fy llwyth gwaith wedi bod dros 150% ers misoedd, ac mae'r WMT yn dweud \"you're fine\" "
    "bob tro. Dywedodd Siân, fy rheolwr, ar 3 Mawrth 2026 nad oes neb i gymryd yr achosion. "
    "I'm exhausted – rydw i wedi blino'n lân. Llŷr ac Gwenllïan sy'n dal y risg uchel yn Wrecsam."
)


def test_a_welsh_testimony_with_english_in_it_is_kept_and_shown_as_written(client, world, login_as):
    response = submit(client, "/testimony?lang=cy", form_data(text=WELSH_WITH_ENGLISH))
    assert response.status_code == 302
    testimony = db.session.scalars(db.select(services.Testimony)).one()
    assert testimony.original_text == WELSH_WITH_ENGLISH
    # The official's page shows it unchanged, and the suggested public text takes out the
    # Welsh names, place and date without breaking a word.
    login_as(world.official)
    page = client.get(f"/testimonies/{testimony.reference}").get_data(as_text=True)
    assert "wedi blino&#39;n lân" in page and "Gwenllïan" in page
    suggestion = suggest_redaction(WELSH_WITH_ENGLISH)
    assert "Siân" not in suggestion and "Wrecsam" not in suggestion and "3 Mawrth 2026" not in suggestion
    assert "[name], fy rheolwr" in suggestion and "wedi blino'n lân" in suggestion and "you're fine" in suggestion
    assert "[name]ân" not in suggestion and "[name]ŷr" not in suggestion


def test_the_status_page_speaks_welsh_with_welsh_dates(client, world):
    testimony, code = factories.make_testimony_with_code()
    services.ask_follow_up(world.official, testimony, "Pa mor aml mae hyn yn digwydd?")
    db.session.commit()
    page = submit(client, "/testimony/status?lang=cy", {"code": code}).get_data(as_text=True)
    assert "Wedi'i darllen: mae swyddog wedi gofyn cwestiwn i chi, a ddangosir isod" in page.replace("&#39;", "'")
    months = "Ionawr Chwefror Mawrth Ebrill Mai Mehefin Gorffennaf Awst Medi Hydref Tachwedd Rhagfyr".split()
    assert any(month in page for month in months)
    assert "Pa mor aml mae hyn yn digwydd?" in page


def test_periods_follow_welsh_plural_rules(app):
    from napo_tracker.schedule import Period

    with app.test_request_context("/?lang=cy"):
        assert Period(1, "years").in_words() == "1 flwyddyn"
        assert Period(2, "years").in_words() == "2 flynedd"
        assert Period(30, "days").in_words() == "30 diwrnod"
    g.pop("napo_lang")  # the test's app context outlives each request context, as production's does not
    flask_babel.refresh()
    with app.test_request_context("/"):
        assert Period(1, "years").in_words() == "1 year"
        assert Period(6, "years").in_words() == "6 years"


def test_the_privacy_notice_is_welsh_through_and_through(client, world):
    html = client.get("/privacy?lang=cy").get_data(as_text=True).replace("&#39;", "'")
    # Paragraphs written over several lines are found in the catalogue too (trimmed as extracted).
    assert "Rydym yn cadw'r rhain i'ch cynrychioli" in html
    assert "Caiff copïau wrth gefn wedi'u hamgryptio" in html
    assert "We keep these to represent you" not in html and "Encrypted backups" not in html


# ---------------------------------------------------------------------------- staff pages' catalogue


def _checker():
    """scripts/unmarked-strings.py, loaded from its file (its name is not a module name)."""
    spec = importlib.util.spec_from_file_location("unmarked_strings", ROOT / "scripts" / "unmarked-strings.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_string_a_person_reads_is_marked_for_translation():
    """Every page's own words, its read attributes, and every flash message, field label and
    validator message in Python go through the catalogue, so a translator sees them all."""
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path, line, text in _checker().findings([ROOT / "templates", ROOT / "napo_tracker"])
    ]
    assert not found, "mark these for translation (scripts/unmarked-strings.py):\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "suffix", "unmarked"),
    [
        ("<p>Cases waiting</p>", ".html", ["Cases waiting"]),
        ('<p>{{ _("Cases waiting") }}</p>', ".html", []),
        ("<p>{% trans n=3 %}{{ n }} cases waiting{% endtrans %}</p>", ".html", []),
        ('<a href="{{ url }}" title="Open the case">{{ case.reference }}</a>', ".html", ['title="Open the case"']),
        ('<input type="submit" value="Send now">', ".html", ['value="Send now"']),
        ('<button type="submit" name="action" value="revoke">{{ _("Revoke") }}</button>', ".html", []),
        ("<script>const words = 'not read aloud';</script><p>{{ 135 }} %</p>", ".html", []),
        ("<p>{{ _('Run') }} <code>flask evidence import FILE</code></p>", ".html", []),
        ("flash('Case saved.')", ".py", ["'Case saved.'"]),
        ("flash(_('Case saved.'))", ".py", []),
        ("title = StringField('Title', description=_l('Short'))", ".py", ["'Title'"]),
        (
            "title = StringField(_l('Title'), validators=[DataRequired(message='Give it a title.')])",
            ".py",
            ["'Give it a title.'"],
        ),
        ("log.info('Case saved')", ".py", []),
        ("raise CaseError('No such case.', 'ref')", ".py", []),
    ],
)
def test_the_unmarked_strings_check_finds_what_a_person_reads(tmp_path, source, suffix, unmarked):
    path = tmp_path / f"sample{suffix}"
    path.write_text(source, encoding="utf-8")
    assert [text for _path, _line, text in _checker().findings([path])] == unmarked


def _marked_msgids() -> set[str]:
    ids: set[str] = set()
    for path in sorted((ROOT / "templates").rglob("*.html")):
        with open(path, "rb") as handle:
            for _line, _function, message, _comments in babel_extract(handle, list(KEYWORDS), [], {"trimmed": "true"}):
                first = message if isinstance(message, str) or message is None else next(iter(message))
                if first:
                    ids.add(first)
    for path in sorted((ROOT / "napo_tracker").rglob("*.py")):
        for _line, message, _comments, _context in extract_from_file("python", str(path), KEYWORDS):
            first = message if isinstance(message, str) else message[0]
            if first:
                ids.add(first)
    return ids


def test_the_catalogue_holds_every_marked_string():
    """What the code marks is in the Welsh catalogue (translated or waiting for a translator):
    a string marked and never extracted would never reach one."""
    catalogue = {message.id if isinstance(message.id, str) else message.id[0] for message in _welsh_catalogue()}
    missing = sorted(_marked_msgids() - catalogue)
    assert not missing, "run `make translations` (then translate):\n" + "\n".join(missing)
