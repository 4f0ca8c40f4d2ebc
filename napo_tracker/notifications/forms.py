"""The inbox's forms: marking read, and choosing what reaches you by e-mail."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, SubmitField
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import select_choices
from .models import NotificationKind


class KindsField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SettingsForm(FlaskForm):
    email_kinds = KindsField(_l("Send me an e-mail for"), choices=select_choices(NotificationKind.choices()))
    is_daily_digest = BooleanField(_l("One daily digest instead of an e-mail for each"))
    submit = SubmitField(_l("Save my choices"))
