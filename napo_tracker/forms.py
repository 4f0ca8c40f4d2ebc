"""Pieces every form shares: text clean-up, validators for hostile input, and the one-time
token of every form that creates a record."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import escape
from wtforms import HiddenField, SelectChoice, SubmitField
from wtforms.validators import ValidationError

from .submissions import ALREADY_SENT, check_not_used, claim

OUT_OF_DATE = lazy_gettext("This form is out of date. Reload the page and send it again.")
TOKEN_BYTES = 24  # 32 characters of URL-safe base64
_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")

# Bidirectional overrides and isolates can make text read differently from what it is.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def strip_text(value):
    """A WTForms filter: trim surrounding white space, keep None as None."""
    return value.strip() if isinstance(value, str) else value


class TranslatedLabel:
    """A choice's label, shown in the page's language where the catalogue has it (an enum's
    label, marked with ``N_``); a name not in the catalogue, such as a region's, stays as typed.

    It is text, never markup: escaped wherever it is drawn, unlike Flask-Babel's lazy strings,
    which declare themselves safe HTML (a region named ``<script>`` would reach the page)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return gettext(self.text) if self.text else self.text

    def __html__(self) -> str:
        return str(escape(str(self)))

    def __repr__(self) -> str:
        return f"TranslatedLabel({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other) if isinstance(other, str | TranslatedLabel) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.text)

    def __lt__(self, other: object) -> bool:
        return str(self) < str(other)

    def __len__(self) -> int:
        return len(str(self))

    def __contains__(self, item: str) -> bool:
        return item in str(self)


def select_choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """``(value, label)`` pairs as the options of a SelectField (WTForms 3.3 deprecates bare
    tuples); each label in the page's language where there is one (``TranslatedLabel``)."""
    return [
        SelectChoice(value=value, label=TranslatedLabel(label) if isinstance(label, str) and label else label)
        for value, label in pairs
    ]


def has_forbidden_characters(value: str, *, allow_newlines: bool = False) -> bool:
    for ch in value:
        if ch in BIDI_CONTROLS or ch == "\ufffd":
            return True
        if allow_newlines and ch in "\n\r\t":
            continue
        if unicodedata.category(ch) == "Cc":
            return True
    return False


class PlainText:
    """Refuse control characters, bidirectional overrides and undecodable bytes.

    Undecodable bytes reach us as U+FFFD (Werkzeug decodes forms with 'replace').
    """

    def __init__(self, *, multiline: bool = False, message: str | None = None):
        self.multiline = multiline
        self.message = message

    def __call__(self, form, field):
        if isinstance(field.data, str) and has_forbidden_characters(field.data, allow_newlines=self.multiline):
            raise ValidationError(
                self.message
                or gettext(
                    "This contains characters we cannot accept (control characters, text-direction "
                    "overrides or bytes that are not valid UTF-8). Please retype it."
                )
            )


class VersionField(HiddenField):
    """The version of the record a form was made from, sent back to detect a conflicting edit.

    ``data`` is an int, or None when the form did not carry one (then no check is made);
    anything else is refused, so a tampered field never reaches the service.
    """

    data: int | None

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = (valuelist[0] if valuelist else "") or ""
        raw = str(raw).strip()
        if not raw:
            self.data = None
        elif raw.isdigit() and len(raw) <= 18:
            self.data = int(raw)
        else:
            self.data = None
            raise ValueError(gettext("This form is out of date. Reload the page and try again."))

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)


class SubmissionTokenField(HiddenField):
    """The form's one-time token (see ``submissions``).

    It always renders a fresh token, never the one sent back: a form shown again after a
    refusal or a dry run may be sent again, and must not look like a repeat of the first.
    """

    data: str | None

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = str(valuelist[0]) if valuelist else ""
        self.data = raw if _TOKEN_PATTERN.fullmatch(raw) else None

    def pre_validate(self, form: Any) -> None:
        if self.data is None and form.meta.csrf:
            raise ValidationError(OUT_OF_DATE)

    def _value(self) -> str:
        # A new one each time it is drawn: a page may hold several forms made from one form
        # object (one per question offered), and each must be sent once on its own.
        return secrets.token_urlsafe(TOKEN_BYTES)


class OnceOnlyForm(FlaskForm):
    """A form that creates a record: sent twice, it makes one (``submissions``).

    Its template renders ``{{ form.submission_token }}`` beside the CSRF token. On a POST,
    ``validate()`` first sends a repeat to the first result (``AlreadySubmitted``), then,
    when the form is valid, claims the token before the view calls its service. The token
    travels with the CSRF token: a form built with CSRF off (a form tested alone) has neither.
    """

    # Where a repeat lands, and what it is told (the public form says more).
    already_sent_message = ALREADY_SENT
    # The public testimony form: the token is tied to no account, even a logged-in one.
    is_anonymous = False

    submission_token = SubmissionTokenField()

    def claims_submission(self) -> bool:
        """Whether this post makes something; a dry run, for one, does not."""
        return True

    def validate(self, extra_validators: Any = None) -> bool:
        token = self.submission_token.data if self.meta.csrf else None
        if token is not None:
            check_not_used(token, self._sender_id(), self.already_sent_message)
        if not super().validate(extra_validators):
            return False
        if token is not None and self.claims_submission():
            claim(token, self._sender_id(), self.already_sent_message)
        return True

    def _sender_id(self) -> int | None:
        if self.is_anonymous or not current_user.is_authenticated:
            return None
        return int(current_user.id)


class ConfirmForm(FlaskForm):
    """A button that changes something: CSRF only."""

    submit = SubmitField(lazy_gettext("Confirm"))
