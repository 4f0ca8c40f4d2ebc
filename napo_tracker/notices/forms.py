"""The forms of notices; each takes its choices (and "today") as arguments, so it is tested alone."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
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
from ..kernel.labels import N_
from .models import MAX_WMT_PERCENT, Concern, EscalationStep, NoticeKind, NoticeOutcome, NoticeStatus
from .services import LETTER_LANGUAGES, NoticeDetails


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _not_in_future(today: date):
    def check(form, field):
        if field.data and field.data > today:
            raise ValidationError(_l("This date cannot be in the future."))

    return check


class NoticeForm(FlaskForm):
    kind = SelectField(_l("Kind of notice"), choices=select_choices(NoticeKind.choices()), validators=[DataRequired()])
    signatory_count = IntegerField(
        _l("Number of signatories"),
        default=1,
        validators=[Optional(), NumberRange(min=1, max=10000, message=_l("At least one signatory."))],
        description=_l("For a collective notice: how many members of the team signed it."),
    )
    region_id = SelectField(_l("Region"), coerce=int, validators=[DataRequired(message=_l("Choose a region."))])
    unit_id = SelectField(
        _l("Unit"), coerce=int, validators=[Optional()], description=_l("The PDU, office or team the notice concerns.")
    )
    served_to_name = StringField(
        _l("Served to (manager's name)"),
        filters=[strip_text],
        validators=[DataRequired(), Length(max=120), PlainText()],
    )
    served_to_role = StringField(
        _l("Manager's role"),
        filters=[strip_text],
        validators=[DataRequired(), Length(max=120), PlainText()],
        description=_l("For example: Head of PDU, Senior Probation Officer."),
    )
    wmt_percent = DecimalField(
        _l("WMT % at the time"),
        places=1,
        validators=[
            InputRequired(message=_l("Enter the WMT percentage.")),
            NumberRange(min=0, max=MAX_WMT_PERCENT, message=_l("WMT must be between %(min)s and %(max)s %%.")),
        ],
        description=_l("Workload management tool: 100 means full capacity."),
    )
    caseload = IntegerField(
        _l("Caseload at the time"),
        validators=[Optional(), NumberRange(min=0, max=10000, message=_l("A caseload is a whole number, 0 or more."))],
    )
    concerns = MultiCheckboxField(_l("Concerns"), choices=select_choices(Concern.choices()))
    concerns_detail = TextAreaField(
        _l("Concerns in your own words"),
        filters=[strip_text],
        validators=[Optional(), Length(max=5000), PlainText(multiline=True)],
    )
    letter_wording = TextAreaField(
        _l("Wording of the letter"),
        filters=[strip_text],
        validators=[Optional(), Length(max=5000), PlainText(multiline=True)],
        description=_l(
            "Your own opening paragraphs; the figures, the concerns and the response date are always "
            "added. Leave empty for the standard wording. Fixed once the notice is served."
        ),
    )
    case_reference = StringField(
        _l("Linked case (optional)"),
        filters=[strip_text],
        validators=[Optional(), Length(max=32), PlainText()],
        description=_l("The case reference, for example CASE-2026-0042."),
    )
    member_id = SelectField(
        _l("Member (individual notice)"),
        coerce=int,
        validators=[Optional()],
        description=_l("Optional; taken from the linked case when left empty."),
    )
    named_member_ids = SelectMultipleField(
        _l("Named members (collective notice)"),
        coerce=int,
        validators=[Optional()],
        description=_l("Optional: the members who signed, if they agreed to be named."),
    )
    assigned_rep_id = SelectField(
        _l("Assigned rep"),
        coerce=int,
        validators=[Optional()],
        description=_l("Receives the reminders and sees the deadlines in their calendar."),
    )
    version = VersionField()
    submit = SubmitField(_l("Save notice"))

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
        self.member_id.choices = select_choices([(0, N_("No member linked")), *member_choices])
        self.named_member_ids.choices = select_choices(member_choices)
        self.region_id.choices = select_choices([(0, N_("Choose a region")), *region_choices])
        self.unit_id.choices = select_choices([(0, N_("No particular unit")), *unit_choices])
        self.assigned_rep_id.choices = select_choices([(0, N_("Me")), *rep_choices])

    def validate_signatory_count(self, field):
        if self.kind.data == NoticeKind.COLLECTIVE and (field.data is None or field.data < 1):
            raise ValidationError(_l("A collective notice needs at least one signatory."))

    def validate_region_id(self, field):
        if field.data not in self.region_ids:
            raise ValidationError(_l("Choose one of your regions."))

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
            raise ValidationError(_l("Choose a language from the list."))


class ServeForm(FlaskForm):
    served_on = DateField(
        _l("Date served"), validators=[InputRequired(message=_l("Enter the date the notice was served."))]
    )
    language = SelectField(
        _l("Language of the letter"),
        choices=select_choices((code, name) for code, (_lang, _locale, name) in LETTER_LANGUAGES.items()),
        default="en",
        validators=[ListedLanguage()],
        description=_l("Your own wording, if you wrote it, stays as you wrote it."),
    )
    submit = SubmitField(_l("Mark as served and freeze the letter"))

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.served_on.validators = [*self.served_on.validators, _not_in_future(today)]


class ResponseForm(FlaskForm):
    received_on = DateField(
        _l("Date the response was received"),
        validators=[InputRequired(message=_l("Enter the date the response was received."))],
    )
    summary = TextAreaField(
        _l("What management said"),
        filters=[strip_text],
        validators=[DataRequired(), Length(max=5000), PlainText(multiline=True)],
    )
    outcome = SelectField(
        _l("Outcome so far"),
        choices=select_choices([("", N_("Not decided yet")), *NoticeOutcome.choices()]),
        validators=[Optional()],
    )
    submit = SubmitField(_l("Record the response"))

    def __init__(self, *args, today: date, served_on: date | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today, self.served_on = today, served_on

    def validate_received_on(self, field):
        if field.data and field.data > self.today:
            raise ValidationError(_l("This date cannot be in the future."))
        if field.data and self.served_on and field.data < self.served_on:
            raise ValidationError(
                _l(
                    "The response cannot be before the notice was served (%(served_on)s).",
                    served_on=format_date(self.served_on, "dd MMMM y"),
                )
            )


class EscalateForm(OnceOnlyForm):
    step = SelectField(_l("Escalate to"), validators=[DataRequired(message=_l("Choose a step."))])
    raised_on = DateField(_l("Date raised"), validators=[InputRequired(message=_l("Enter the date."))])
    note = TextAreaField(
        _l("Note"), filters=[strip_text], validators=[Optional(), Length(max=2000), PlainText(multiline=True)]
    )
    submit = SubmitField(_l("Record the escalation"))

    def __init__(self, *args, steps: list[str], today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.step.choices = select_choices((step, EscalationStep.label_of(step)) for step in steps)
        self.raised_on.validators = [*self.raised_on.validators, _not_in_future(today)]


class ResolveForm(FlaskForm):
    outcome = SelectField(_l("Outcome"), choices=select_choices(NoticeOutcome.choices()), validators=[DataRequired()])
    submit = SubmitField(_l("Resolve the notice"))


class FilterForm(FlaskForm):
    """The list filters (GET, no CSRF)."""

    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        choices=select_choices([("", N_("Any status")), *NoticeStatus.choices()]),
        validators=[Optional()],
    )
    region = SelectField(_l("Region"), coerce=int, validators=[Optional()])
    unit = SelectField(_l("Unit"), coerce=int, validators=[Optional()])
    due = SelectField(
        _l("Deadline"),
        choices=select_choices([("", N_("Any")), ("overdue", N_("Overdue")), ("due_soon", N_("Due soon"))]),
        validators=[Optional()],
    )
    sort = SelectField(
        _l("Sort by"),
        choices=select_choices(
            [("due", N_("Response due")), ("served", N_("Date served (newest)")), ("reference", N_("Reference"))]
        ),
        validators=[Optional()],
    )

    def __init__(
        self, *args, region_choices: Iterable[tuple[int, str]], unit_choices: Iterable[tuple[int, str]], **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.region.choices = select_choices([(0, N_("All my regions")), *region_choices])
        self.unit.choices = select_choices([(0, N_("All units")), *unit_choices])


class HandOverForm(FlaskForm):
    """Which of a rep's open cases and notices go to which colleague. Each box's value carries
    the version of the record as the page showed it, so a record changed since is refused."""

    to_rep_id = SelectField(_l("Hand over to"), coerce=int, validators=[InputRequired(message=_l("Choose a rep."))])
    items = MultiCheckboxField(_l("Cases and notices"), choices=[], validate_choice=False)
    everything = BooleanField(_l("All of them (every open case and notice listed)"))
    submit = SubmitField(_l("Hand over"))

    def __init__(self, *args, reps: Sequence[tuple[int, str]], items: Sequence[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.to_rep_id.choices = list(reps)
        self.items.choices = list(items)
        self._offered = {value for value, _ in items}

    def validate_items(self, field) -> None:
        if any(value not in self._offered for value in field.data or []):
            raise ValidationError(_l("Reload the page: the list changed since it was opened."))

    def chosen(self) -> tuple[dict[str, int], dict[str, int]]:
        """(case references, notice references), each with the version the page showed."""
        values = sorted(self._offered) if self.everything.data else (self.items.data or [])
        found: dict[str, dict[str, int]] = {"case": {}, "notice": {}}
        for value in values:
            kind, reference, version = value.split(":")
            found[kind][reference] = int(version)
        return found["case"], found["notice"]
