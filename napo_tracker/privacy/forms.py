"""Admins' forms for subject access requests and erasure."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from ..forms import OnceOnlyForm, PlainText, TranslatedLabel, select_choices, strip_text
from ..kernel.clock import today
from ..kernel.labels import N_
from .erasure import AccountChoice
from .models import ReceivedVia


class RequestForm(OnceOnlyForm):
    member = StringField(
        _l("Member"),
        filters=[strip_text],
        validators=[
            # Drawn as text, escaped (a lazy string is drawn as markup, its apostrophe left raw).
            DataRequired(message=TranslatedLabel(N_("Give the member's membership number or pseudonym."))),
            Length(max=40),
            PlainText(),
        ],
        description=_l("Their membership number, or their pseudonym such as M-0131."),
    )
    received_on = DateField(
        _l("Received on"),
        validators=[InputRequired(message=_l("Give the day the request reached the union."))],
        default=today,
    )
    received_via = SelectField(
        _l("How it came"), choices=select_choices(ReceivedVia.choices()), validators=[DataRequired()]
    )
    submit = SubmitField(_l("Record the request"))


class AnsweredForm(FlaskForm):
    answered_on = DateField(
        _l("Sent to the member on"),
        validators=[InputRequired(message=_l("Give the day the export was sent."))],
        default=today,
    )
    submit = SubmitField(_l("Mark as answered"))


class EraseForm(FlaskForm):
    """Typing the pseudonym again is the confirmation: an erasure cannot be undone."""

    confirm = StringField(
        _l("Type the member's pseudonym to confirm"),
        filters=[strip_text],
        validators=[DataRequired(message=_l("Type the pseudonym to confirm.")), Length(max=20)],
    )
    account = RadioField(_l("Their account"), choices=select_choices(AccountChoice.choices()), validate_choice=False)
    submit = SubmitField(_l("Erase this member"))

    def __init__(self, *args: Any, pseudonym: str, has_account: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pseudonym = pseudonym
        self.has_account = has_account

    def validate_confirm(self, field: Any) -> None:
        typed = " ".join((field.data or "").split()).upper()
        if typed not in (self.pseudonym.upper(), self.pseudonym.split()[-1].upper()):
            raise ValidationError(
                gettext("Type %(pseudonym)s exactly, to confirm it is the member to erase.", pseudonym=self.pseudonym)
            )

    def validate_account(self, field: Any) -> None:
        if self.has_account and not AccountChoice.has_value(field.data):
            raise ValidationError(gettext("Choose whether to keep or deactivate their account."))
