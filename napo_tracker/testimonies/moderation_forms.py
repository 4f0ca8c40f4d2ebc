"""The officials' testimony forms: approve, reject, ask, tag, and the list's filters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import OnceOnlyForm, PlainText, VersionField, select_choices, strip_text
from ..kernel.labels import N_
from .forms import CheckboxListField, choice_values, text_length
from .models import GRADE_CHOICES, QuoteAudience, TestimonyStatus, Topic
from .services import NO_CONSENT


class ApproveForm(FlaskForm):
    public_text = TextAreaField(
        _l("Public text (redacted)"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Write the public text.")),
            text_length(_l("The public text")),
            PlainText(multiline=True),
        ],
        description=_l(
            "The only version that may ever be quoted. Remove or replace names, places, dates, "
            "ages and anything else that could identify the member or anyone else."
        ),
    )
    version = VersionField()
    submit = SubmitField(_l("Approve with this public text"))


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (internal, never shown to the member)"),
        filters=[strip_text],
        validators=[DataRequired(_l("Give a reason for the record.")), Length(max=2_000), PlainText(multiline=True)],
    )
    version = VersionField()
    submit = SubmitField(_l("Reject"))


class QuestionForm(OnceOnlyForm):
    question = TextAreaField(
        _l("Question for the member"),
        filters=[strip_text],
        validators=[DataRequired(_l("Write the question.")), Length(min=5, max=2_000), PlainText(multiline=True)],
        description=_l("They see it the next time they check with their receipt code."),
    )
    submit = SubmitField(_l("Ask"))


class TagForm(FlaskForm):
    topics = CheckboxListField(_l("Topics"), choices=select_choices(Topic.choices()))
    submit = SubmitField(_l("Save topics"))


# The consent filter's choices, one per audience (``QuoteAudience``), each in full words.
MAY_QUOTE_TO = {QuoteAudience.MPS: N_("May quote to MPs"), QuoteAudience.PRESS: N_("May quote to the press")}


class FilterForm(FlaskForm):
    """The list's filters, read from the query string (GET: no CSRF needed)."""

    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        validate_choice=False,
        choices=select_choices([("", N_("Any status")), *TestimonyStatus.choices()]),
    )
    region = SelectField(_l("Region"), validate_choice=False)
    grade = SelectField(
        _l("Grade"), choices=select_choices([("", N_("Any grade")), *GRADE_CHOICES]), validate_choice=False
    )
    topic = SelectField(
        _l("Topic"), choices=select_choices([("", N_("Any topic")), *Topic.choices()]), validate_choice=False
    )
    consent = SelectField(
        _l("Consent"),
        choices=select_choices(
            [
                ("", N_("Any consent")),
                *((audience.value, MAY_QUOTE_TO[audience]) for audience in QuoteAudience),
                (NO_CONSENT, N_("No consent")),
            ]
        ),
        validate_choice=False,
    )

    def __init__(self, *args, region_choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = select_choices([("", N_("Any region")), *region_choices])

    def cleaned(self, field) -> str:
        """The field's value when it is one of its choices, else '' (a forged filter is ignored)."""
        return field.data if field.data in choice_values(field.choices) else ""
