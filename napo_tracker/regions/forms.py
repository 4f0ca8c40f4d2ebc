from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ..forms import OnceOnlyForm, PlainText, select_choices, strip_text
from .models import UnitKind


class RegionForm(FlaskForm):
    name = StringField("Region name", filters=[strip_text], validators=[DataRequired(), Length(max=120), PlainText()])
    submit = SubmitField("Save region")


class UnitForm(FlaskForm):
    name = StringField("Unit name", filters=[strip_text], validators=[DataRequired(), Length(max=120), PlainText()])
    kind = SelectField("Kind of unit", choices=select_choices(UnitKind.choices()))
    submit = SubmitField("Save unit")


class NewRegionForm(OnceOnlyForm, RegionForm):
    """Adding a region: sent twice, it adds one."""


class NewUnitForm(OnceOnlyForm, UnitForm):
    """Adding a unit: sent twice, it adds one."""
