"""The briefing composer's forms. Each checks the shape of what was sent; the rules of
briefings themselves (the size of a section, consent, citing) are the services', and where a
form refuses early it asks the service's own rule."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..forms import OnceOnlyForm, PlainText, VersionField, select_choices, strip_text
from ..kernel.clock import today
from ..kernel.labels import N_
from .models import MAX_CHART_REGIONS, MAX_TESTIMONIES, Audience, SectionKind
from .services import DOCUMENT_LANGUAGES, BriefingError, validate_section_body

MARKDOWN_HINT = _l(
    "Markdown: a blank line between paragraphs, “- ” for a list item, “# ” for a sub-heading. "
    "HTML is shown as plain text. [=EV-0001] prints a figure with its source number, "
    "[EV-0001] the source number alone."
)


class VersionedForm(FlaskForm):
    """Carries the briefing's version, so that a change made from a stale page is refused."""

    expected_version = VersionField()


class BriefingForm(VersionedForm):
    title = StringField(_l("Title"), filters=[strip_text], validators=[DataRequired(), Length(max=200), PlainText()])
    subtitle = StringField(
        _l("Subtitle"),
        filters=[strip_text],
        validators=[Optional(), Length(max=200), PlainText()],
        description=_l("For example: A briefing from the union for parliamentarians"),
    )
    audience = SelectField(_l("Audience"), choices=select_choices(Audience.choices()))
    dated_on = DateField(_l("Date"), validators=[InputRequired(message=_l("Give the briefing's date."))], default=today)
    signatory_name = StringField(
        _l("Signed by (name)"), filters=[strip_text], validators=[Optional(), Length(max=120), PlainText()]
    )
    signatory_title = StringField(
        _l("Signatory's title"),
        filters=[strip_text],
        validators=[Optional(), Length(max=120), PlainText()],
        description=_l("For example: National Official"),
    )
    submit = SubmitField(_l("Save briefing"))

    def validate_dated_on(self, field):
        if field.data and not 2000 <= field.data.year <= 2099:
            raise ValidationError(_l("Give a date between 2000 and 2099."))


class NewBriefingForm(OnceOnlyForm, BriefingForm):
    """Starting a briefing: sent twice, it starts one."""


def _check_body(form: FlaskForm, field: Any) -> None:
    """The service's own limits on a section body, refused before anything is saved."""
    try:
        validate_section_body(field.data or "")
    except BriefingError as error:
        raise ValidationError(error.message) from error


class SectionForm(VersionedForm):
    kind = SelectField(_l("Kind of section"), choices=select_choices(SectionKind.choices()))
    heading = StringField(
        _l("Heading"),
        filters=[strip_text],
        validators=[Optional(), Length(max=200), PlainText()],
        description=_l("Left empty, the kind of section is used."),
    )
    body = TextAreaField(
        _l("Text"),
        validators=[Optional(), PlainText(multiline=True), _check_body],
        description=MARKDOWN_HINT,
        render_kw={"rows": 18},
    )
    submit = SubmitField(_l("Save section"))
    preview = SubmitField(_l("Preview without saving"))


class NewSectionForm(OnceOnlyForm, SectionForm):
    """Adding a section: sent twice, it adds one."""


class ChartForm(VersionedForm):
    metric_code = SelectField(_l("Metric"), validate_choice=False)
    region_ids = SelectMultipleField(
        _l("Regions"),
        coerce=int,
        validate_choice=False,
        description=_l("None chosen: every region (national figures only when “National” is chosen)."),
    )
    chart_on = DateField(
        _l("Latest figure of each region on or before"),
        validators=[Optional()],
        description=_l("Left empty: the briefing's date."),
    )
    since_on = DateField(
        _l("Or: every figure of the chosen regions since"),
        validators=[Optional()],
        description=_l("A line per region over time, instead of each one's latest figure."),
    )
    references = StringField(
        _l("Or: the evidence to draw, by reference"),
        filters=[strip_text],
        validators=[Optional(), Length(max=2000), PlainText()],
        description=_l("For example: EV-0001, EV-0007. Overrides the choices above."),
    )
    submit = SubmitField(_l("Save chart"))

    def __init__(self, *args, metric_choices=(), region_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.metric_code.choices = select_choices([("", N_("No chart")), *metric_choices])
        self.region_ids.choices = select_choices([(0, N_("National")), *region_choices])
        self.known_metrics = {code for code, _label in metric_choices}
        self.known_regions = {value for value, _label in region_choices} | {0}

    def chosen_references(self) -> list[str]:
        return [r.upper() for r in re.split(r"[\s,;]+", self.references.data or "") if r]

    def validate_metric_code(self, field):
        if field.data and field.data not in self.known_metrics:
            raise ValidationError(_l("Choose a metric from the list."))

    def validate_region_ids(self, field):
        known = self.known_regions
        if len(field.data or []) > MAX_CHART_REGIONS:
            raise ValidationError(_l("A chart can compare at most %(count)s regions.", count=MAX_CHART_REGIONS))
        if any(value not in known for value in field.data or []):
            raise ValidationError(_l("Choose regions from the list."))


class EvidenceFilterForm(FlaskForm):
    """The evidence picker's filters (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    region = SelectField(_l("Region"), validate_choice=False)
    metric = SelectField(_l("Metric"), validate_choice=False)
    since_on = DateField(_l("As of, on or after"), validators=[Optional()])
    verified_only = BooleanField(_l("Verified only"))

    def __init__(self, *args, metric_choices=(), region_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = select_choices(
            [("", N_("All regions")), ("0", N_("National")), *[(str(value), label) for value, label in region_choices]]
        )
        self.metric.choices = select_choices([("", N_("All metrics")), *metric_choices])


class CiteForm(VersionedForm):
    evidence_reference = HiddenField(validators=[DataRequired(), Length(max=16), PlainText()])
    section_id = SelectField(_l("Add to section"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Cite"))


class RegionalForm(OnceOnlyForm, VersionedForm):
    region_ids = SelectMultipleField(
        _l("Regions"),
        coerce=int,
        validate_choice=False,
        validators=[DataRequired(message=_l("Choose at least one region."))],
    )
    date_from = DateField(
        _l("Figures dated from"),
        validators=[Optional()],
        description=_l("Left empty: twelve months before the briefing."),
    )
    date_to = DateField(_l("to"), validators=[Optional()], description=_l("Left empty: the briefing's date."))
    submit = SubmitField(_l("Draft the regional evidence section"))

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The period must end on or after its start."))

    def __init__(self, *args, region_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.region_ids.choices = select_choices(region_choices)
        self.known_regions = {value for value, _label in region_choices}

    def validate_region_ids(self, field):
        known = self.known_regions
        if any(value not in known for value in field.data or []):
            raise ValidationError(_l("Choose regions from the list."))


class TestimonyPickForm(VersionedForm):
    __test__ = False

    testimony_ids = SelectMultipleField(_l("Testimonies to quote"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Save the testimonies quoted"))

    def validate_testimony_ids(self, field):
        chosen = field.data or []
        if len(chosen) > MAX_TESTIMONIES:
            raise ValidationError(
                _l(
                    "A briefing may quote at most %(most)s testimonies; you chose %(chosen)s.",
                    most=MAX_TESTIMONIES,
                    chosen=f"{len(chosen):,}",
                )
            )


class AddQuestionForm(OnceOnlyForm, VersionedForm):
    question_id = IntegerField(_l("Question from the bank"), validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])
    text = TextAreaField(
        _l("Or write a question of this briefing's own"),
        filters=[strip_text],
        validators=[Optional(), Length(max=1000), PlainText(multiline=True)],
    )
    submit = SubmitField(_l("Add question"))

    def validate(self, extra_validators=None) -> bool:
        # Optional() ends the text field's own checks when it is empty, so "one of the two" is here.
        valid = super().validate(extra_validators)
        if valid and not self.text.data and not self.question_id.data:
            self.text.errors = [_l("Write a question, or pick one from the bank.")]
            return False
        return valid


class RewordForm(VersionedForm):
    text = TextAreaField(
        _l("Question, as this briefing asks it"),
        filters=[strip_text],
        validators=[DataRequired(), Length(max=1000), PlainText(multiline=True)],
    )
    submit = SubmitField(_l("Save wording"))


class QuestionForm(FlaskForm):
    text = TextAreaField(
        _l("Question"),
        filters=[strip_text],
        validators=[DataRequired(), Length(min=10, max=1000), PlainText(multiline=True)],
    )
    topics = StringField(
        _l("Topics"),
        filters=[strip_text],
        validators=[Optional(), Length(max=200), PlainText()],
        description=_l("Separated by commas: retention, pay, staffing …"),
    )
    is_archived = BooleanField(_l("Archived (no longer offered)"))
    submit = SubmitField(_l("Save question"))


class NewQuestionForm(OnceOnlyForm, QuestionForm):
    """Adding a question to the bank: sent twice, it adds one."""


class ConfirmChangeForm(VersionedForm):
    """Publish, withdraw, move and remove: a button with CSRF and the briefing's version."""

    submit = SubmitField(_l("Confirm"))


class PublishForm(OnceOnlyForm, ConfirmChangeForm):
    """Publishing freezes a new version: sent twice, it freezes one."""

    language = SelectField(
        _l("Language of the headings and dates"),
        choices=select_choices(DOCUMENT_LANGUAGES.items()),
        default="en",
        description=_l("The sections stay in the words you wrote them in."),
    )
