"""Letter forms: an admin's template, and a rep's choice of template for a case."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import OnceOnlyForm, PlainText, VersionField, select_choices, strip_text
from .models import LetterKind
from .services import LETTER_LANGUAGES, MAX_BODY


class TemplateForm(FlaskForm):
    name = StringField(_l("Name"), filters=[strip_text], validators=[DataRequired(), Length(max=120), PlainText()])
    kind = SelectField(_l("Kind"), choices=select_choices(LetterKind.choices()))
    subject = StringField(
        _l("Subject line"),
        filters=[strip_text],
        validators=[Optional(), Length(max=200), PlainText()],
        description=_l("May hold merge fields, e.g. Grievance: {{ case.reference }}"),
    )
    body = TextAreaField(
        _l("Letter"),
        validators=[DataRequired(), Length(max=MAX_BODY)],
        description=_l("Plain text; a blank line starts a paragraph; merge fields as listed below."),
    )
    version = VersionField()
    submit = SubmitField(_l("Save"))


class NewTemplateForm(OnceOnlyForm, TemplateForm):
    pass


def _optional_int(value: Any) -> int | None:
    return None if value in (None, "", "None") else int(value)


class LetterChoiceForm(FlaskForm):
    """Which template, which notice, and the member's agreement: read from the query string
    for the preview, and sent again with the letter."""

    template_id = SelectField(_l("Template"), coerce=_optional_int, validators=[DataRequired(_l("Choose a template."))])
    notice_id = SelectField(_l("About the notice"), coerce=_optional_int, validators=[Optional()])
    member_agrees = BooleanField(_l("The member agrees to be named in this letter"))
    language = SelectField(
        _l("Language of the letter"),
        choices=select_choices(LETTER_LANGUAGES.items()),
        default="en",
        description=_l("Its date line, dates and labels; the template's own words are as the admin wrote them."),
    )

    def __init__(
        self, *args: Any, templates: Sequence[tuple[int, str]], notices: Sequence[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.template_id.choices = [("", _("Choose…")), *templates]
        self.notice_id.choices = [("", _("None")), *notices]


class PreviewForm(LetterChoiceForm):
    class Meta:
        csrf = False

    preview = SubmitField(_l("Preview"))


class SendForm(OnceOnlyForm, LetterChoiceForm):
    send = SubmitField(_l("Send: freeze it as a PDF and file it on the case"))
