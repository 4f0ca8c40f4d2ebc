"""The form that creates a personal API token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ..forms import OnceOnlyForm, PlainText, strip_text


class ApiTokenForm(OnceOnlyForm):
    name = StringField(
        _l("What the token is for"),
        filters=[strip_text],
        validators=[DataRequired(), Length(max=120), PlainText()],
        description=_l("e.g. 'Research team spreadsheet'. You will see the token once."),
    )
    submit = SubmitField(_l("Create token"))
