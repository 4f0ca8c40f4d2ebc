"""The forms of notices; each takes its choices (and "today") as arguments, so it is tested alone."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import OnceOnlyForm, PlainText, VersionField, select_choices, strip_text
from .models import MAX_WMT_PERCENT, Concern, EscalationStep, NoticeKind, NoticeOutcome, NoticeStatus
from .services import LETTER_LANGUAGES, NoticeDetails


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _not_in_future(today: date):
    def check(form, field):
        if field.data and field.data > today:
            raise ValidationError("This date cannot be in the future.")

    return check


class NoticeForm(FlaskForm):
    kind = SelectField("Kind of notice", choices=select_choices(NoticeKind.choices()), validators=[DataRequired()])
    signatory_count = IntegerField(
        "Number of signatories",
        default=1,
        validators=[Optional(), NumberRange(min=1, max=10000, message="At least one signatory.")],
        description="For a collective notice: how many members of the team signed it.",
    )
    region_id = SelectField("Region", coerce=int, validators=[DataRequired(message="Choose a region.")])
    unit_id = SelectField(
        "Unit", coerce=int, validators=[Optional()], description="The PDU, office or team the notice concerns."
    )
    served_to_name = StringField(
        "Served to (manager's name)", filters=[strip_text], validators=[DataRequired(), Length(max=120), PlainText()]
    )
    served_to_role = StringField(
        "Manager's role",
        filters=[strip_text],
        validators=[DataRequired(), Length(max=120), PlainText()],
        description="For example: Head of PDU, Senior Probation Officer.",
    )
    wmt_percent = DecimalField(
        "WMT % at the time",
        places=1,
        validators=[
            InputRequired(message="Enter the WMT percentage."),
            NumberRange(min=0, max=MAX_WMT_PERCENT, message=f"WMT must be between 0 and {MAX_WMT_PERCENT} %%."),
        ],
        description="Workload management tool: 100 means full capacity.",
    )
    caseload = IntegerField(
        "Caseload at the time",
        validators=[Optional(), NumberRange(min=0, max=10000, message="A caseload is a whole number, 0 or more.")],
    )
    concerns = MultiCheckboxField("Concerns", choices=select_choices(Concern.choices()))
    concerns_detail = TextAreaField(
        "Concerns in your own words",
        filters=[strip_text],
        validators=[Optional(), Length(max=5000), PlainText(multiline=True)],
    )
    letter_wording = TextAreaField(
        "Wording of the letter",
        filters=[strip_text],
        validators=[Optional(), Length(max=5000), PlainText(multiline=True)],
        description="Your own opening paragraphs; the figures, the concerns and the response date are always "
        "added. Leave empty for the standard wording. Fixed once the notice is served.",
    )
    case_reference = StringField(
        "Linked case (optional)",
        filters=[strip_text],
        validators=[Optional(), Length(max=32), PlainText()],
        description="The case reference, for example CASE-2026-0042.",
    )
    member_id = SelectField(
        "Member (individual notice)",
        coerce=int,
        validators=[Optional()],
        description="Optional; taken from the linked case when left empty.",
    )
    named_member_ids = SelectMultipleField(
        "Named members (collective notice)",
        coerce=int,
        validators=[Optional()],
        description="Optional: the members who signed, if they agreed to be named.",
    )
    assigned_rep_id = SelectField(
        "Assigned rep",
        coerce=int,
        validators=[Optional()],
        description="Receives the reminders and sees the deadlines in their calendar.",
    )
    version = VersionField()
    submit = SubmitField("Save notice")

    def __init__(
        self,
        *args,
        region_choices: Sequence[tuple[int, str]],
        unit_choices: Iterable[tuple[int, str]],
        rep_choices: Iterable[tuple[int, str]],
        member_choices: Sequence[tuple[int, str]] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.region_ids = {region_id for region_id, _name in region_choices}
        self.member_id.choices = select_choices([(0, "No member linked"), *member_choices])
        self.named_member_ids.choices = select_choices(member_choices)
        self.region_id.choices = select_choices([(0, "Choose a region"), *region_choices])
        self.unit_id.choices = select_choices([(0, "No particular unit"), *unit_choices])
        self.assigned_rep_id.choices = select_choices([(0, "Me"), *rep_choices])

    def validate_signatory_count(self, field):
        if self.kind.data == NoticeKind.COLLECTIVE and (field.data is None or field.data < 1):
            raise ValidationError("A collective notice needs at least one signatory.")

    def validate_region_id(self, field):
        if field.data not in self.region_ids:
            raise ValidationError("Choose one of your regions.")

    def details(self) -> NoticeDetails:
        return NoticeDetails(
            kind=self.kind.data,
            region_id=self.region_id.data,
            unit_id=self.unit_id.data or None,
            served_to_name=self.served_to_name.data or "",
            served_to_role=self.served_to_role.data or "",
            wmt_percent=self.wmt_percent.data,
            caseload=self.caseload.data,
            signatory_count=self.signatory_count.data,
            concerns=list(self.concerns.data or []),
            concerns_detail=self.concerns_detail.data or "",
            letter_wording=self.letter_wording.data or "",
            assigned_rep_id=self.assigned_rep_id.data or None,
            case_reference=self.case_reference.data or "",
            member_id=self.member_id.data or None,
            named_member_ids=list(self.named_member_ids.data or []),
        )


class NewNoticeForm(OnceOnlyForm, NoticeForm):
    """Recording a notice: sent twice, it records one."""


class ListedLanguage:
    def __call__(self, form, field):
        if field.data not in LETTER_LANGUAGES:
            raise ValidationError("Choose a language from the list.")


class ServeForm(FlaskForm):
    served_on = DateField("Date served", validators=[InputRequired(message="Enter the date the notice was served.")])
    language = SelectField(
        "Language of the letter",
        choices=select_choices((code, name) for code, (_lang, _locale, name) in LETTER_LANGUAGES.items()),
        default="en",
        validators=[ListedLanguage()],
        description="Your own wording, if you wrote it, stays as you wrote it.",
    )
    submit = SubmitField("Mark as served and freeze the letter")

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.served_on.validators = [*self.served_on.validators, _not_in_future(today)]


class ResponseForm(FlaskForm):
    received_on = DateField(
        "Date the response was received",
        validators=[InputRequired(message="Enter the date the response was received.")],
    )
    summary = TextAreaField(
        "What management said",
        filters=[strip_text],
        validators=[DataRequired(), Length(max=5000), PlainText(multiline=True)],
    )
    outcome = SelectField(
        "Outcome so far",
        choices=select_choices([("", "Not decided yet"), *NoticeOutcome.choices()]),
        validators=[Optional()],
    )
    submit = SubmitField("Record the response")

    def __init__(self, *args, today: date, served_on: date | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today, self.served_on = today, served_on

    def validate_received_on(self, field):
        if field.data and field.data > self.today:
            raise ValidationError("This date cannot be in the future.")
        if field.data and self.served_on and field.data < self.served_on:
            raise ValidationError(f"The response cannot be before the notice was served ({self.served_on:%d %B %Y}).")


class EscalateForm(OnceOnlyForm):
    step = SelectField("Escalate to", validators=[DataRequired(message="Choose a step.")])
    raised_on = DateField("Date raised", validators=[InputRequired(message="Enter the date.")])
    note = TextAreaField(
        "Note", filters=[strip_text], validators=[Optional(), Length(max=2000), PlainText(multiline=True)]
    )
    submit = SubmitField("Record the escalation")

    def __init__(self, *args, steps: list[str], today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.step.choices = select_choices((step, EscalationStep.label_of(step)) for step in steps)
        self.raised_on.validators = [*self.raised_on.validators, _not_in_future(today)]


class ResolveForm(FlaskForm):
    outcome = SelectField("Outcome", choices=select_choices(NoticeOutcome.choices()), validators=[DataRequired()])
    submit = SubmitField("Resolve the notice")


class FilterForm(FlaskForm):
    """The list filters (GET, no CSRF)."""

    class Meta:
        csrf = False

    status = SelectField(
        "Status",
        choices=select_choices([("", "Any status"), *NoticeStatus.choices()]),
        validators=[Optional()],
    )
    region = SelectField("Region", coerce=int, validators=[Optional()])
    unit = SelectField("Unit", coerce=int, validators=[Optional()])
    due = SelectField(
        "Deadline",
        choices=select_choices([("", "Any"), ("overdue", "Overdue"), ("due_soon", "Due soon")]),
        validators=[Optional()],
    )
    sort = SelectField(
        "Sort by",
        choices=select_choices(
            [("due", "Response due"), ("served", "Date served (newest)"), ("reference", "Reference")]
        ),
        validators=[Optional()],
    )

    def __init__(
        self, *args, region_choices: Iterable[tuple[int, str]], unit_choices: Iterable[tuple[int, str]], **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.region.choices = select_choices([(0, "All my regions"), *region_choices])
        self.unit.choices = select_choices([(0, "All units"), *unit_choices])


class HandOverForm(FlaskForm):
    """Which of a rep's open cases and notices go to which colleague. Each box's value carries
    the version of the record as the page showed it, so a record changed since is refused."""

    to_rep_id = SelectField("Hand over to", coerce=int, validators=[InputRequired(message="Choose a rep.")])
    items = MultiCheckboxField("Cases and notices", choices=[], validate_choice=False)
    everything = BooleanField("All of them (every open case and notice listed)")
    submit = SubmitField("Hand over")

    def __init__(self, *args, reps: Sequence[tuple[int, str]], items: Sequence[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.to_rep_id.choices = list(reps)
        self.items.choices = list(items)
        self._offered = {value for value, _ in items}

    def validate_items(self, field) -> None:
        if any(value not in self._offered for value in field.data or []):
            raise ValidationError("Reload the page: the list changed since it was opened.")

    def chosen(self) -> tuple[dict[str, int], dict[str, int]]:
        """(case references, notice references), each with the version the page showed."""
        values = sorted(self._offered) if self.everything.data else (self.items.data or [])
        found: dict[str, dict[str, int]] = {"case": {}, "notice": {}}
        for value in values:
            kind, reference, version = value.split(":")
            found[kind][reference] = int(version)
        return found["case"], found["notice"]
