"""The form that creates a personal API token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ..forms import PlainText, strip_text


class ApiTokenForm(FlaskForm):
    name = StringField(
        "What the token is for",
        filters=[strip_text],
        validators=[DataRequired(), Length(max=120), PlainText()],
        description="e.g. 'Research team spreadsheet'. You will see the token once.",
    )
    submit = SubmitField("Create token")
