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
from .models import MAX_CHART_REGIONS, MAX_TESTIMONIES, Audience, SectionKind
from .services import DOCUMENT_LANGUAGES, BriefingError, validate_section_body

MARKDOWN_HINT = (
    "Markdown: a blank line between paragraphs, “- ” for a list item, “# ” for a sub-heading. "
    "HTML is shown as plain text. [=EV-0001] prints a figure with its source number, "
    "[EV-0001] the source number alone."
)


class VersionedForm(FlaskForm):
    """Carries the briefing's version, so that a change made from a stale page is refused."""

    expected_version = VersionField()


class BriefingForm(VersionedForm):
    title = StringField("Title", filters=[strip_text], validators=[DataRequired(), Length(max=200), PlainText()])
    subtitle = StringField(
        "Subtitle",
        filters=[strip_text],
        validators=[Optional(), Length(max=200), PlainText()],
        description="For example: A briefing from the union for parliamentarians",
    )
    audience = SelectField("Audience", choices=select_choices(Audience.choices()))
    dated_on = DateField("Date", validators=[InputRequired(message="Give the briefing's date.")], default=today)
    signatory_name = StringField(
        "Signed by (name)", filters=[strip_text], validators=[Optional(), Length(max=120), PlainText()]
    )
    signatory_title = StringField(
        "Signatory's title",
        filters=[strip_text],
        validators=[Optional(), Length(max=120), PlainText()],
        description="For example: National Official",
    )
    submit = SubmitField("Save briefing")

    def validate_dated_on(self, field):
        if field.data and not 2000 <= field.data.year <= 2099:
            raise ValidationError("Give a date between 2000 and 2099.")


class NewBriefingForm(OnceOnlyForm, BriefingForm):
    """Starting a briefing: sent twice, it starts one."""


def _check_body(form: FlaskForm, field: Any) -> None:
    """The service's own limits on a section body, refused before anything is saved."""
    try:
        validate_section_body(field.data or "")
    except BriefingError as error:
        raise ValidationError(error.message) from error


class SectionForm(VersionedForm):
    kind = SelectField("Kind of section", choices=select_choices(SectionKind.choices()))
    heading = StringField(
        "Heading",
        filters=[strip_text],
        validators=[Optional(), Length(max=200), PlainText()],
        description="Left empty, the kind of section is used.",
    )
    body = TextAreaField(
        "Text",
        validators=[Optional(), PlainText(multiline=True), _check_body],
        description=MARKDOWN_HINT,
        render_kw={"rows": 18},
    )
    submit = SubmitField("Save section")
    preview = SubmitField("Preview without saving")


class NewSectionForm(OnceOnlyForm, SectionForm):
    """Adding a section: sent twice, it adds one."""


class ChartForm(VersionedForm):
    metric_code = SelectField("Metric", validate_choice=False)
    region_ids = SelectMultipleField(
        "Regions",
        coerce=int,
        validate_choice=False,
        description="None chosen: every region (national figures only when “National” is chosen).",
    )
    chart_on = DateField(
        "Latest figure of each region on or before",
        validators=[Optional()],
        description="Left empty: the briefing's date.",
    )
    since_on = DateField(
        "Or: every figure of the chosen regions since",
        validators=[Optional()],
        description="A line per region over time, instead of each one's latest figure.",
    )
    references = StringField(
        "Or: the evidence to draw, by reference",
        filters=[strip_text],
        validators=[Optional(), Length(max=2000), PlainText()],
        description="For example: EV-0001, EV-0007. Overrides the choices above.",
    )
    submit = SubmitField("Save chart")

    def __init__(self, *args, metric_choices=(), region_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.metric_code.choices = select_choices([("", "No chart"), *metric_choices])
        self.region_ids.choices = select_choices([(0, "National"), *region_choices])
        self.known_metrics = {code for code, _label in metric_choices}
        self.known_regions = {value for value, _label in region_choices} | {0}

    def chosen_references(self) -> list[str]:
        return [r.upper() for r in re.split(r"[\s,;]+", self.references.data or "") if r]

    def validate_metric_code(self, field):
        if field.data and field.data not in self.known_metrics:
            raise ValidationError("Choose a metric from the list.")

    def validate_region_ids(self, field):
        known = self.known_regions
        if len(field.data or []) > MAX_CHART_REGIONS:
            raise ValidationError(f"A chart can compare at most {MAX_CHART_REGIONS} regions.")
        if any(value not in known for value in field.data or []):
            raise ValidationError("Choose regions from the list.")


class EvidenceFilterForm(FlaskForm):
    """The evidence picker's filters (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    region = SelectField("Region", validate_choice=False)
    metric = SelectField("Metric", validate_choice=False)
    since_on = DateField("As of, on or after", validators=[Optional()])
    verified_only = BooleanField("Verified only")

    def __init__(self, *args, metric_choices=(), region_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = select_choices(
            [("", "All regions"), ("0", "National"), *[(str(value), label) for value, label in region_choices]]
        )
        self.metric.choices = select_choices([("", "All metrics"), *metric_choices])


class CiteForm(VersionedForm):
    evidence_reference = HiddenField(validators=[DataRequired(), Length(max=16), PlainText()])
    section_id = SelectField("Add to section", coerce=int, validate_choice=False)
    submit = SubmitField("Cite")


class RegionalForm(OnceOnlyForm, VersionedForm):
    region_ids = SelectMultipleField(
        "Regions", coerce=int, validate_choice=False, validators=[DataRequired(message="Choose at least one region.")]
    )
    date_from = DateField(
        "Figures dated from", validators=[Optional()], description="Left empty: twelve months before the briefing."
    )
    date_to = DateField("to", validators=[Optional()], description="Left empty: the briefing's date.")
    submit = SubmitField("Draft the regional evidence section")

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The period must end on or after its start.")

    def __init__(self, *args, region_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.region_ids.choices = select_choices(region_choices)
        self.known_regions = {value for value, _label in region_choices}

    def validate_region_ids(self, field):
        known = self.known_regions
        if any(value not in known for value in field.data or []):
            raise ValidationError("Choose regions from the list.")


class TestimonyPickForm(VersionedForm):
    __test__ = False

    testimony_ids = SelectMultipleField("Testimonies to quote", coerce=int, validate_choice=False)
    submit = SubmitField("Save the testimonies quoted")

    def validate_testimony_ids(self, field):
        chosen = field.data or []
        if len(chosen) > MAX_TESTIMONIES:
            raise ValidationError(
                f"A briefing may quote at most {MAX_TESTIMONIES} testimonies; you chose {len(chosen):,}."
            )


class AddQuestionForm(OnceOnlyForm, VersionedForm):
    question_id = IntegerField("Question from the bank", validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])
    text = TextAreaField(
        "Or write a question of this briefing's own",
        filters=[strip_text],
        validators=[Optional(), Length(max=1000), PlainText(multiline=True)],
    )
    submit = SubmitField("Add question")

    def validate(self, extra_validators=None) -> bool:
        # Optional() ends the text field's own checks when it is empty, so "one of the two" is here.
        valid = super().validate(extra_validators)
        if valid and not self.text.data and not self.question_id.data:
            self.text.errors = ["Write a question, or pick one from the bank."]
            return False
        return valid


class RewordForm(VersionedForm):
    text = TextAreaField(
        "Question, as this briefing asks it",
        filters=[strip_text],
        validators=[DataRequired(), Length(max=1000), PlainText(multiline=True)],
    )
    submit = SubmitField("Save wording")


class QuestionForm(FlaskForm):
    text = TextAreaField(
        "Question",
        filters=[strip_text],
        validators=[DataRequired(), Length(min=10, max=1000), PlainText(multiline=True)],
    )
    topics = StringField(
        "Topics",
        filters=[strip_text],
        validators=[Optional(), Length(max=200), PlainText()],
        description="Separated by commas: retention, pay, staffing …",
    )
    is_archived = BooleanField("Archived (no longer offered)")
    submit = SubmitField("Save question")


class NewQuestionForm(OnceOnlyForm, QuestionForm):
    """Adding a question to the bank: sent twice, it adds one."""


class ConfirmChangeForm(VersionedForm):
    """Publish, withdraw, move and remove: a button with CSRF and the briefing's version."""

    submit = SubmitField("Confirm")


class PublishForm(OnceOnlyForm, ConfirmChangeForm):
    """Publishing freezes a new version: sent twice, it freezes one."""

    language = SelectField(
        _l("Language of the headings and dates"),
        choices=select_choices(DOCUMENT_LANGUAGES.items()),
        default="en",
        description=_l("The sections stay in the words you wrote them in."),
    )
