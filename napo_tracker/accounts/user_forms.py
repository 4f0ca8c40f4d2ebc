"""An admin's forms for people's accounts: create one, change its name, role, regions or state."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from ..forms import OnceOnlyForm, PlainText, select_choices, strip_text
from ..kernel.vocabulary import Role
from .models import user_by_email
from .passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH

ROLE_CHOICES = select_choices((role.value, role.label) for role in Role)


class _UserFields(FlaskForm):
    display_name = StringField(
        _l("Name"), filters=[strip_text], validators=[DataRequired(), Length(max=120), PlainText()]
    )
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, validators=[DataRequired()])
    regions = SelectMultipleField(
        _l("Regions"),
        coerce=int,
        description=_l("Reps see only these regions. Officials and admins see every region."),
    )

    def __init__(self, *args, region_choices: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.regions.choices = select_choices(region_choices)

    def validate_regions(self, field):
        if self.role.data == Role.REP and not field.data:
            raise ValidationError(_l("Choose at least one region for a rep."))


class UserCreateForm(OnceOnlyForm, _UserFields):
    email = EmailField(
        _l("Email address"),
        filters=[strip_text],
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254), PlainText()],
    )
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
        description=_l("Give it to the person privately; they can change it after logging in."),
    )
    submit = SubmitField(_l("Create user"))

    def validate_email(self, field):
        if field.data and user_by_email(field.data) is not None:
            raise ValidationError(_l("An account with this email address already exists."))


class UserEditForm(_UserFields):
    is_active = BooleanField(_l("Active (can log in)"))
    submit = SubmitField(_l("Save changes"))
