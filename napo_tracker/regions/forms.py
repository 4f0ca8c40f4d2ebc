from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Optional

from ..forms import OnceOnlyForm, PlainText, select_choices, strip_text
from .models import UnitKind


class RegionForm(FlaskForm):
    name = StringField(
        _l("Region name"), filters=[strip_text], validators=[DataRequired(), Length(max=120), PlainText()]
    )
    branch_contact_email = StringField(
        _l("Branch contact e-mail"),
        filters=[strip_text],
        validators=[Optional(), Email(message=_l("Enter an e-mail address, or leave it empty.")), Length(max=254)],
        description=_l(
            "The branch's own address, told (references and dates only) when a notice of the region "
            "escalates by itself. Leave empty for none."
        ),
    )
    submit = SubmitField(_l("Save region"))


class UnitForm(FlaskForm):
    name = StringField(_l("Unit name"), filters=[strip_text], validators=[DataRequired(), Length(max=120), PlainText()])
    kind = SelectField(_l("Kind of unit"), choices=select_choices(UnitKind.choices()))
    submit = SubmitField(_l("Save unit"))


class NewRegionForm(OnceOnlyForm, RegionForm):
    """Adding a region: sent twice, it adds one."""


class NewUnitForm(OnceOnlyForm, UnitForm):
    """Adding a unit: sent twice, it adds one."""
