"""The member's testimony forms: send, check, answer, withdraw; every string of them in Welsh.
The officials' forms are in ``moderation_forms``, whose strings wait for a translator with the
rest of the staff pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import OnceOnlyForm, PlainText, select_choices, strip_text
from ..kernel.labels import N_
from .models import GRADE_CHOICES, ServiceBand, Topic
from .services import ANSWER_MIN, RECEIPT_LENGTH, TEXT_MAX, TEXT_MIN, normalise_code

NOT_SAYING = ("", N_("Prefer not to say"))


def choice_values(choices) -> set[str]:
    return {choice.value for choice in choices or []}


class CheckboxListField(SelectMultipleField):
    """Several choices as a list of labelled checkboxes: easier on a phone than a multi-select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        values = choice_values(self.choices)
        if any(value not in values for value in self.data or []):
            raise ValidationError(_l("Choose only from the list."))


class ListedChoice:
    """A select whose value must be one of its choices; the message is plain words."""

    def __init__(self, message: Any):
        self.message = message

    def __call__(self, form, field):
        if field.data not in choice_values(field.choices):
            raise ValidationError(self.message)


def text_length(what: Any, minimum: int = TEXT_MIN) -> Length:
    return Length(
        min=minimum,
        max=TEXT_MAX,
        message=_l(
            "%(what)s needs between %(min)s and %(max)s characters.",
            what=what,
            min=minimum,
            max=format(TEXT_MAX, ","),
        ),
    )


class TestimonyForm(OnceOnlyForm):
    __test__ = False

    # Sent twice, it is kept once; the token is tied to no account, even a logged-in one.
    is_anonymous = True
    already_sent_message = _l("We already have this testimony: it was sent twice, and is kept once.")

    text = TextAreaField(
        _l("What is happening at work?"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Please write what you want to tell us.")),
            text_length(_l("Your testimony")),
            PlainText(multiline=True),
        ],
        description=_l(
            "Describe your workload and what it does to you and to your work. Please leave out names "
            "of people and places, and anything else that could point to you."
        ),
    )
    region = SelectField(
        _l("Region (optional)"), validate_choice=False, validators=[ListedChoice(_l("Choose a region from the list."))]
    )
    grade = SelectField(
        _l("Your grade (optional)"),
        choices=select_choices([NOT_SAYING, *GRADE_CHOICES]),
        validate_choice=False,
        validators=[ListedChoice(_l("Choose a grade from the list."))],
    )
    service_band = SelectField(
        _l("How long you have worked in the service (optional)"),
        choices=select_choices([NOT_SAYING, *ServiceBand.choices()]),
        validate_choice=False,
        validators=[ListedChoice(_l("Choose a length of service from the list."))],
    )
    topics = CheckboxListField(_l("What is it about? (optional)"), choices=select_choices(Topic.choices()))
    has_mps_consent = BooleanField(_l("Napo may quote my words, anonymously, in briefings to MPs"))
    has_press_consent = BooleanField(_l("Napo may quote my words, anonymously, to journalists"))
    # Left empty by people; filled in by bots that fill in every field.
    website = StringField(_l("Leave this box empty"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Send my testimony"))

    def __init__(self, *args, region_choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = select_choices([NOT_SAYING, *region_choices])

    @property
    def is_bot(self) -> bool:
        return bool((self.website.data or "").strip())


def _valid_code(form, field):
    # Same words as an unknown code: a wrong guess learns nothing from the message.
    if normalise_code(field.data) is None:
        raise ValidationError(UNKNOWN_CODE)


UNKNOWN_CODE = _l(
    "We could not find a testimony with that code. Check that you copied all %(length)s letters and numbers exactly.",
    length=RECEIPT_LENGTH,
)


class StatusForm(FlaskForm):
    code = StringField(
        _l("Your receipt code"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Please enter your receipt code.")),
            Length(max=100, message=UNKNOWN_CODE),
            _valid_code,
        ],
        description=_l(
            "The letters and numbers you were given after sending your testimony, for example ABCD-EFGH-2345-6789-KMNP."
        ),
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"},
    )
    submit = SubmitField(_l("Check"))


class AnswerForm(FlaskForm):
    code = HiddenField(validators=[DataRequired(UNKNOWN_CODE), Length(max=100, message=UNKNOWN_CODE), _valid_code])
    follow_up_id = IntegerField(validators=[InputRequired()])
    answer = TextAreaField(
        _l("Your answer"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Please write your answer.")),
            text_length(_l("Your answer"), ANSWER_MIN),
            PlainText(multiline=True),
        ],
    )
    submit = SubmitField(_l("Send my answer"))


class WithdrawForm(FlaskForm):
    code = HiddenField(validators=[DataRequired(UNKNOWN_CODE), Length(max=100, message=UNKNOWN_CODE), _valid_code])
    confirm = BooleanField(
        _l("Yes, withdraw my testimony and erase what I wrote"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
    submit = SubmitField(_l("Withdraw my testimony"))
