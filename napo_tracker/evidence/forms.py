"""The evidence forms: an item, the list's filters, a CSV upload and a metric definition.

Choices that depend on the user (regions, units, metrics) are set by the view.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..forms import OnceOnlyForm, PlainText, VersionField, select_choices, strip_text
from ..kernel.clock import today
from ..kernel.labels import N_
from ..kernel.vocabulary import Grade
from .models import Level, MetricUnit, SourceType, Visibility
from .services import parse_value

METRIC_CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")


def optional_int(value: Any) -> int | None:
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # never a valid choice: "Not a valid choice"


def _parse_optional_value(text: str | None) -> Decimal | None:
    if text is None or not text.strip():
        return None
    try:
        return parse_value(text)
    except ValueError as error:
        message = str(error)
        raise ValidationError(message[0].upper() + message[1:] + ".") from None


class ExactNumberField(StringField):
    """A figure typed as text and kept exact: ``parsed`` is its Decimal once the form has
    validated (None when left empty). The form's ``validate_<name>`` parses it."""

    parsed: Decimal | None = None


class EvidenceForm(FlaskForm):
    """Regions, units and metrics are given as choices by the view (they depend on the user)."""

    region_id = SelectField(
        _l("Region"), coerce=optional_int, description=_l("Leave as 'National' for a figure about the whole service.")
    )
    unit_id = SelectField(_l("Unit"), coerce=optional_int, description=_l("Optional: a unit inside the region."))
    metric_id = SelectField(_l("Metric"), coerce=optional_int, description=_l("What the value measures."))
    value = ExactNumberField(
        _l("Value"),
        filters=[strip_text],
        validators=[Optional(), Length(max=40)],
        description=_l("An exact number, e.g. 192 or 24.43. Leave empty for a statement only."),
    )
    statement = TextAreaField(
        _l("Statement"),
        filters=[strip_text],
        validators=[Optional(), Length(max=5000), PlainText(multiline=True)],
        description=_l("What was said or found, in a sentence or two."),
    )
    as_of = DateField(
        _l("Date it describes"),
        validators=[InputRequired(message=_l("Give the date the figure describes."))],
        description=_l("The day the figure is true of (the end of the period, if it covers one)."),
    )
    period_start_on = DateField(
        _l("Period starts on"),
        validators=[Optional()],
        description=_l("Optional: for a figure about a period, its first day."),
    )
    grade = SelectField(
        _l("Grade"), choices=select_choices([("", N_("Any or not stated")), *Grade.choices()]), validators=[Optional()]
    )
    reporter_count = IntegerField(
        _l("Number of people it comes from"),
        validators=[Optional(), NumberRange(min=1, max=100000)],
        description=_l(
            "For figures from individual reports: one or two people's figure about one unit "
            "is shown as 'fewer than 3' unless the member consented or an official allows it."
        ),
    )
    source_type = SelectField(_l("Source"), choices=select_choices(SourceType.choices()))
    source_title = StringField(
        _l("Source title or reference"),
        filters=[strip_text],
        validators=[DataRequired(message=_l("Say where the figure comes from.")), Length(max=300), PlainText()],
    )
    source_publisher = StringField(
        _l("Publisher"), filters=[strip_text], validators=[Optional(), Length(max=200), PlainText()]
    )
    source_date = DateField(_l("Source date"), validators=[Optional()])
    source_url = StringField(
        _l("Link"),
        filters=[strip_text],
        validators=[
            Optional(),
            Length(max=500),
            URL(require_tld=True, message=_l("Give a full web address (https://…).")),
        ],
    )
    case_reference = StringField(
        _l("Case it came from"),
        filters=[strip_text],
        validators=[Optional(), Length(max=40), PlainText()],
        description=_l("Optional: a case reference, e.g. CASE-2026-0042."),
    )
    notice_reference = StringField(
        _l("Foreseeability notice it came from"),
        filters=[strip_text],
        validators=[Optional(), Length(max=40), PlainText()],
        description=_l("Optional, e.g. FN-2026-0007."),
    )
    testimony_reference = StringField(
        _l("Testimony it came from"),
        filters=[strip_text],
        validators=[Optional(), Length(max=40), PlainText()],
        description=_l("Optional (officials only), e.g. TST-7KQ2-M9XD."),
    )
    visibility = SelectField(_l("Visibility"), choices=select_choices(Visibility.choices()))
    version = VersionField()
    submit = SubmitField(_l("Save evidence"))

    def validate_value(self, field):
        field.parsed = _parse_optional_value(field.data)

    def validate_as_of(self, field):
        if field.data and field.data > today():
            raise ValidationError(_l("The date cannot be in the future."))
        if field.data and field.data.year < 1990:
            raise ValidationError(_l("Check the year: figures before 1990 are not kept."))

    def validate_source_url(self, field):
        if field.data and not field.data.lower().startswith(("https://", "http://")):
            raise ValidationError(_l("Give a web address starting with https:// or http://."))

    def item_fields(self) -> dict[str, Any]:
        """Explicit fields for the service (never populate_obj)."""
        return {
            "region_id": self.region_id.data,
            "unit_id": self.unit_id.data,
            "metric_id": self.metric_id.data,
            "value": self.value.parsed,
            "statement": self.statement.data or None,
            "as_of": self.as_of.data,
            "period_start_on": self.period_start_on.data,
            "grade": self.grade.data or None,
            "reporter_count": self.reporter_count.data,
            "source_type": self.source_type.data,
            "source_title": self.source_title.data or "",
            "source_publisher": self.source_publisher.data or "",
            "source_date": self.source_date.data,
            "source_url": self.source_url.data or "",
            "visibility": self.visibility.data,
        }

    def link_references(self) -> dict[str, str]:
        return {
            "case_reference": self.case_reference.data or "",
            "notice_reference": self.notice_reference.data or "",
            "testimony_reference": self.testimony_reference.data or "",
        }


class NewEvidenceForm(OnceOnlyForm, EvidenceForm):
    """Recording a figure or statement: sent twice, it records one."""


class FilterForm(FlaskForm):
    """The list's filters: read from the query string, no CSRF (nothing is changed)."""

    class Meta:
        csrf = False

    region = SelectField(_l("Region"), coerce=str, validators=[Optional()])
    unit = SelectField(_l("Unit"), coerce=optional_int, validators=[Optional()])
    metric = SelectField(_l("Metric"), coerce=optional_int, validators=[Optional()])
    source = SelectField(
        _l("Source"),
        choices=select_choices([("", N_("Any source")), *SourceType.choices()]),
        validators=[Optional()],
    )
    verified = SelectField(
        _l("Verified"),
        choices=select_choices([("", N_("Verified or not")), ("yes", N_("Verified")), ("no", N_("Not verified"))]),
        validators=[Optional()],
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("'To' must be on or after 'From'."))


class UploadForm(OnceOnlyForm):
    """A CSV or XLSX file for the importer, and what holds for the whole file; the file's rows
    are checked by the importer, not here."""

    file = FileField(
        _l("CSV or XLSX file"),
        validators=[
            FileRequired(message=_l("Choose a CSV or XLSX file to import.")),
            FileAllowed(["csv", "txt", "xlsx"], _l("Choose a .csv or .xlsx file.")),
        ],
        description=_l(
            "Header: %(columns)s", columns="region,unit,metric,value,as_of,grade,source,source_ref,statement"
        ),
    )
    visibility = SelectField(
        _l("Visibility of every item"), choices=select_choices(Visibility.choices()), default="internal"
    )
    is_verified = BooleanField(
        _l("I have checked this file against its source: mark every item verified"),
        description=_l("National officials only."),
    )
    source_type = SelectField(
        _l("Source, where a row leaves it empty"),
        choices=select_choices([("", N_("Each row says its own source")), *SourceType.choices()]),
        validators=[Optional()],
    )
    source_publisher = StringField(
        _l("Publisher, for every row"),
        filters=[strip_text],
        validators=[Optional(), Length(max=200), PlainText()],
        description=_l("Optional, e.g. HM Prison and Probation Service."),
    )
    dry_run = BooleanField(_l("Only check the file (write nothing)"))
    submit = SubmitField(_l("Import"))

    def claims_submission(self) -> bool:
        return not self.dry_run.data  # a check writes nothing, and may be run again


class OverrideForm(FlaskForm):
    """An official's reason for letting a small number be cited."""

    reason = TextAreaField(
        _l("Why this figure may be cited"),
        filters=[strip_text],
        validators=[Optional(), Length(max=500), PlainText(multiline=True)],
        description=_l("For example: published by the union in its own briefing with the member's agreement."),
    )
    submit = SubmitField(_l("Allow it to be cited"))


class MetricForm(FlaskForm):
    """A metric: a stable code, a label, a unit, how its figures add up and where they are
    kept, and up to three rising thresholds."""

    code = StringField(
        _l("Code"),
        filters=[strip_text],
        validators=[DataRequired(), Length(max=40)],
        description=_l("Lower-case letters, digits and underscores, e.g. court_backlog. Never changes."),
    )
    label = StringField(_l("Label"), filters=[strip_text], validators=[DataRequired(), Length(max=120), PlainText()])
    unit = SelectField(_l("Unit"), choices=select_choices(MetricUnit.choices()))
    description = TextAreaField(
        _l("Description"), filters=[strip_text], validators=[Optional(), Length(max=2000), PlainText(multiline=True)]
    )
    is_higher_worse = BooleanField(_l("A higher value is worse"), default=True)
    is_individual = BooleanField(_l("Each figure describes one person"))
    is_headline = BooleanField(_l("Offer it first on the dashboard"))
    is_additive = BooleanField(
        _l("Figures add up across places (vacancies, leavers): show totals"),
        description=_l("Not for averages or rates."),
    )
    levels = SelectMultipleField(
        _l("Kept at"),
        choices=select_choices(Level.choices()),
        default=["national", "region", "unit"],
        validators=[Optional()],
        description=_l("None ticked: every level."),
    )
    warn_at = ExactNumberField(_l("First threshold"), filters=[strip_text], validators=[Optional(), Length(max=40)])
    alert_at = ExactNumberField(_l("Second threshold"), filters=[strip_text], validators=[Optional(), Length(max=40)])
    severe_at = ExactNumberField(_l("Third threshold"), filters=[strip_text], validators=[Optional(), Length(max=40)])
    submit = SubmitField(_l("Save metric"))

    def thresholds(self) -> dict[str, Decimal | None]:
        # An empty optional field skips its validator, so it was never parsed: ``parsed`` stays None.
        return {"warn_at": self.warn_at.parsed, "alert_at": self.alert_at.parsed, "severe_at": self.severe_at.parsed}

    def validate_code(self, field):
        if not METRIC_CODE.fullmatch(field.data or ""):
            raise ValidationError(_l("Use lower-case letters, digits and underscores, starting with a letter."))

    def validate_warn_at(self, field):
        field.parsed = _parse_optional_value(field.data)

    def validate_alert_at(self, field):
        field.parsed = _parse_optional_value(field.data)
        if field.parsed is not None and self.warn_at.parsed is not None and field.parsed < self.warn_at.parsed:
            raise ValidationError(_l("The second threshold must not be below the first."))

    def validate_severe_at(self, field):
        field.parsed = _parse_optional_value(field.data)
        if field.parsed is not None and self.alert_at.parsed is not None and field.parsed < self.alert_at.parsed:
            raise ValidationError(_l("The third threshold must not be below the second."))


class NewMetricForm(OnceOnlyForm, MetricForm):
    """Adding a metric: sent twice, it adds one."""


class DashboardForm(FlaskForm):
    """A dashboard's view, from the query string: the metric, the level, the date the latest
    figures are taken on, the earlier date to compare with and the range of the time series.
    No CSRF: it changes nothing."""

    class Meta:
        csrf = False

    metric = SelectField(_l("Metric"), validators=[Optional()])
    level = SelectField(_l("Level"), choices=select_choices(Level.choices()), validators=[Optional()])
    grade = SelectField(
        _l("Grade"), choices=select_choices([("", N_("Each grade apart")), *Grade.choices()]), validators=[Optional()]
    )
    on = DateField(_l("Latest figures on or before"), validators=[Optional()])
    since = DateField(_l("Change since"), validators=[Optional()], description=_l("A year before by default."))
    date_from = DateField(_l("Time series from"), validators=[Optional()])
    date_to = DateField(_l("to"), validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("'to' must be on or after 'from'."))

    def validate_since(self, field):
        if field.data and self.on.data and field.data > self.on.data:
            raise ValidationError(_l("Compare with a date before the one the figures are taken on."))
