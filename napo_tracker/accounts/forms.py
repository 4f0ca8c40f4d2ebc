"""The forms of signing in and of one's own account (password, two-factor sign-in), every string
of them in Welsh. An admin's forms for others' accounts are in ``user_forms``, whose strings wait
for a translator with the rest of the staff pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from ..forms import PlainText, strip_text
from .passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH


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
