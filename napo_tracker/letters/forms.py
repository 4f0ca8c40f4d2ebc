"""Letter forms: an admin's template, and a rep's choice of template for a case."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import OnceOnlyForm, PlainText, VersionField, strip_text
from .models import LetterKind
from .services import MAX_BODY


class TemplateForm(FlaskForm):
    name = StringField("Name", filters=[strip_text], validators=[DataRequired(), Length(max=120), PlainText()])
    kind = SelectField("Kind", choices=LetterKind.labels())
    subject = StringField(
        "Subject line",
        filters=[strip_text],
        validators=[Optional(), Length(max=200), PlainText()],
        description="May hold merge fields, e.g. Grievance: {{ case.reference }}",
    )
    body = TextAreaField(
        "Letter",
        validators=[DataRequired(), Length(max=MAX_BODY)],
        description="Plain text; a blank line starts a paragraph; merge fields as listed below.",
    )
    version = VersionField()
    submit = SubmitField("Save")


class NewTemplateForm(OnceOnlyForm, TemplateForm):
    pass


def _optional_int(value: Any) -> int | None:
    return None if value in (None, "", "None") else int(value)


class LetterChoiceForm(FlaskForm):
    """Which template, which notice, and the member's agreement: read from the query string
    for the preview, and sent again with the letter."""

    template_id = SelectField("Template", coerce=_optional_int, validators=[DataRequired("Choose a template.")])
    notice_id = SelectField("About the notice", coerce=_optional_int, validators=[Optional()])
    member_agrees = BooleanField("The member agrees to be named in this letter")

    def __init__(
        self, *args: Any, templates: Sequence[tuple[int, str]], notices: Sequence[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.template_id.choices = [("", "Choose…"), *templates]
        self.notice_id.choices = [("", "None"), *notices]


class PreviewForm(LetterChoiceForm):
    class Meta:
        csrf = False

    preview = SubmitField("Preview")


class SendForm(OnceOnlyForm, LetterChoiceForm):
    send = SubmitField("Send: freeze it as a PDF and file it on the case")
