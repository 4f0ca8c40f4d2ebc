"""The form that creates a personal API token."""

from __future__ import annotations

from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ..forms import OnceOnlyForm, PlainText, strip_text


class ApiTokenForm(OnceOnlyForm):
    name = StringField(
        "What the token is for",
        filters=[strip_text],
        validators=[DataRequired(), Length(max=120), PlainText()],
        description="e.g. 'Research team spreadsheet'. You will see the token once.",
    )
    submit = SubmitField("Create token")
