from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from ..forms import OnceOnlyForm, PlainText, select_choices, strip_text
from ..kernel.vocabulary import Role
from .models import user_by_email
from .passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH

ROLE_CHOICES = select_choices((role.value, role.label) for role in Role)


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email address"), filters=[strip_text], validators=[DataRequired(), Length(max=254), PlainText()]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField(_l("Keep me logged in on this device"), default=False)
    submit = SubmitField(_l("Log in"))


class _NewPassword(FlaskForm):
    """A new password, typed twice; the password rule itself is the service's (passwords.py)."""

    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
        description=_l(
            "At least %(count)s characters. A few unrelated words make a good one.", count=MIN_PASSWORD_LENGTH
        ),
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), Length(max=1024), EqualTo("new_password", _l("The two passwords differ."))],
    )


class ChangePasswordForm(_NewPassword):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField(_l("Change password"))


class CodeForm(FlaskForm):
    """A six-digit code from the authenticator app, or a recovery code."""

    code = StringField(
        _l("Code"),
        filters=[strip_text],
        validators=[DataRequired(), Length(max=20), PlainText()],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "none"},
        description=_l("The six digits your authenticator app shows now, or one of your recovery codes."),
    )
    submit = SubmitField(_l("Continue"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Email address"), filters=[strip_text], validators=[DataRequired(), Length(max=254), PlainText()]
    )
    submit = SubmitField(_l("Send me a link"))


class ResetPasswordForm(_NewPassword):
    submit = SubmitField(_l("Set the new password"))


class _UserFields(FlaskForm):
    display_name = StringField("Name", filters=[strip_text], validators=[DataRequired(), Length(max=120), PlainText()])
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[DataRequired()])
    regions = SelectMultipleField(
        "Regions",
        coerce=int,
        description="Reps see only these regions. Officials and admins see every region.",
    )

    def __init__(self, *args, region_choices: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.regions.choices = select_choices(region_choices)

    def validate_regions(self, field):
        if self.role.data == Role.REP and not field.data:
            raise ValidationError("Choose at least one region for a rep.")


class UserCreateForm(OnceOnlyForm, _UserFields):
    email = EmailField(
        "Email address",
        filters=[strip_text],
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254), PlainText()],
    )
    password = PasswordField(
        "Initial password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
        description="Give it to the person privately; they can change it after logging in.",
    )
    submit = SubmitField("Create user")

    def validate_email(self, field):
        if field.data and user_by_email(field.data) is not None:
            raise ValidationError("An account with this email address already exists.")


class UserEditForm(_UserFields):
    is_active = BooleanField("Active (can log in)")
    submit = SubmitField("Save changes")
