"""Pieces every form shares: text clean-up and validators for hostile input."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SubmitField
from wtforms.validators import ValidationError

# Bidirectional overrides and isolates can make text read differently from what it is.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def strip_text(value):
    """A WTForms filter: trim surrounding white space, keep None as None."""
    return value.strip() if isinstance(value, str) else value


def select_choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """``(value, label)`` pairs as the options of a SelectField (WTForms 3.3 deprecates bare tuples)."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


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
                or "This contains characters we cannot accept (control characters, text-direction "
                "overrides or bytes that are not valid UTF-8). Please retype it."
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
            raise ValueError("This form is out of date. Reload the page and try again.")

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)


class ConfirmForm(FlaskForm):
    """A button that changes something: CSRF only."""

    submit = SubmitField("Confirm")
