"""Casework forms. Each receives the choices in the user's scope as arguments, so a
crafted POST naming a region, unit, member or rep outside them fails validation."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
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
from wtforms.widgets import CheckboxInput, ListWidget

from .. import storage
from ..forms import PlainText, strip_text
from .models import CATEGORIES, ENTRY_LABELS, GRADES, MANUAL_ENTRY_KINDS, PRIORITIES, RISK_FLAGS, CaseStatus
from .services import CASELOAD_MAX, EARLIEST_DATE, LIST_VIEWS, SORTS, WMT_MAX, CaseError, check_transition


def optional_int(value):
    """Coerce for selects with a blank first choice: '' is None, anything else an int."""
    if value in (None, "", "None"):
        return None
    return int(value)


def _latest_allowed() -> date:
    return date(date.today().year + 5, 12, 31)


class _DateInRange:
    def __init__(self, *, not_after_today: bool = False):
        self.not_after_today = not_after_today

    def __call__(self, form, field):
        if field.data is None:
            return
        latest = date.today() if self.not_after_today else _latest_allowed()
        if not EARLIEST_DATE <= field.data <= latest:
            raise ValidationError(f"Give a date between {EARLIEST_DATE:%d %B %Y} and {latest:%d %B %Y}.")


GRADE_CHOICES = {"": "— not given —", **GRADES}
CHOOSE = "Choose one from the list."
SORT_LABELS = {
    "reference": "Reference",
    "title": "Title",
    "category": "Category",
    "status": "Status",
    "wmt_percent": "WMT %",
    "opened_on": "Opened on",
    "next_action_on": "Next action due",
    "updated_at": "Last updated",
}
assert set(SORT_LABELS) == set(SORTS)


class CaseForm(FlaskForm):
    region_id = SelectField(
        "Region", coerce=optional_int, invalid_value_message=CHOOSE, validators=[InputRequired("Choose a region.")]
    )
    unit_id = SelectField("Unit", coerce=optional_int, invalid_value_message=CHOOSE, validators=[Optional()])
    member_id = SelectField(
        "Member",
        coerce=optional_int,
        invalid_value_message=CHOOSE,
        validators=[Optional()],
        description="Leave blank when the concern is a whole team's.",
    )
    category = SelectField(
        "Category", choices={"": "— choose —", **CATEGORIES}, validators=[DataRequired("Choose a category.")]
    )
    title = StringField(
        "Title",
        filters=[strip_text],
        validators=[DataRequired("Give the case a short title."), Length(max=200), PlainText()],
    )
    description = TextAreaField(
        "What is happening", filters=[strip_text], validators=[Length(max=20_000), PlainText(multiline=True)]
    )
    grade = SelectField("Grade", choices=GRADE_CHOICES, validators=[Optional()])
    wmt_percent = IntegerField(
        "WMT %",
        validators=[Optional(), NumberRange(0, WMT_MAX, f"WMT must be between 0 and {WMT_MAX} %%.")],
        description="The workload management tool figure when the concern was raised; 100 is full.",
    )
    caseload = IntegerField(
        "Caseload",
        validators=[Optional(), NumberRange(0, CASELOAD_MAX, f"Caseload must be between 0 and {CASELOAD_MAX}.")],
    )
    has_high_risk_cases = BooleanField(RISK_FLAGS["has_high_risk_cases"])
    has_mappa_cases = BooleanField(RISK_FLAGS["has_mappa_cases"])
    has_domestic_abuse_cases = BooleanField(RISK_FLAGS["has_domestic_abuse_cases"])
    has_protected_caseload_breach = BooleanField(RISK_FLAGS["has_protected_caseload_breach"])
    has_no_cover = BooleanField(RISK_FLAGS["has_no_cover"])
    priority = SelectField("Priority", choices=dict(PRIORITIES), default="normal")
    assigned_rep_id = SelectField(
        "Assigned rep", coerce=optional_int, invalid_value_message=CHOOSE, validators=[Optional()]
    )
    next_action = StringField("Next action", filters=[strip_text], validators=[Length(max=200), PlainText()])
    next_action_on = DateField("Next action due", validators=[Optional(), _DateInRange()])
    has_evidence_consent = BooleanField(
        "The member agrees the facts (never who they are) may be used, anonymised, as evidence"
    )
    version = HiddenField()
    submit = SubmitField("Save case")

    def __init__(self, *args, regions, units, members, reps, **kwargs):
        """``units``/``members``: records in scope; ``reps``: (user, region_id) pairs in scope."""
        super().__init__(*args, **kwargs)
        self.region_id.choices = [("", "— choose —")] + [(r.id, r.name) for r in regions]
        self.unit_id.choices = [("", "— none —")] + [(u.id, f"{u.name} ({u.region.name})") for u in units]
        self.member_id.choices = [("", "— none: a team concern —")] + [
            (m.id, f"{m.pseudonym}" + (f" · {m.grade}" if m.grade else "") + (f" · {m.unit.name}" if m.unit else ""))
            for m in members
        ]
        seen: dict[int, str] = {}
        for rep, _region_id in reps:
            seen.setdefault(rep.id, rep.display_name)
        self.assigned_rep_id.choices = [("", "— nobody yet —")] + sorted(seen.items(), key=lambda item: item[1])
        self._unit_regions = {u.id: u.region_id for u in units}
        self._member_regions = {m.id: m.region_id for m in members}
        self._rep_regions: dict[int, set[int]] = {}
        for rep, region_id in reps:
            self._rep_regions.setdefault(rep.id, set()).add(region_id)

    def validate_unit_id(self, field):
        if field.data is not None and self._unit_regions.get(field.data) != self.region_id.data:
            raise ValidationError("Choose a unit in the case's region.")

    def validate_member_id(self, field):
        if field.data is not None and self._member_regions.get(field.data) != self.region_id.data:
            raise ValidationError("Choose a member of the case's region.")

    def validate_assigned_rep_id(self, field):
        if field.data is not None and self.region_id.data not in self._rep_regions.get(field.data, set()):
            raise ValidationError("Assign the case to a rep of its own region.")

    def validate_version(self, field):
        if field.data not in (None, "") and not str(field.data).isdigit():
            raise ValidationError("Reload the page and try again.")

    def case_fields(self) -> dict:
        """The fields a case is saved from, by name: never ``populate_obj``."""
        return {
            "region_id": self.region_id.data,
            "unit_id": self.unit_id.data,
            "member_id": self.member_id.data,
            "category": self.category.data,
            "title": self.title.data,
            "description": self.description.data or "",
            "grade": self.grade.data or None,
            "wmt_percent": self.wmt_percent.data,
            "caseload": self.caseload.data,
            **{flag: bool(getattr(self, flag).data) for flag in RISK_FLAGS},
            "priority": self.priority.data,
            "assigned_rep_id": self.assigned_rep_id.data,
            "next_action": self.next_action.data or None,
            "next_action_on": self.next_action_on.data,
            "has_evidence_consent": bool(self.has_evidence_consent.data),
        }

    def expected_version(self) -> int | None:
        return int(self.version.data) if str(self.version.data or "").isdigit() else None

    def apply_error(self, error: CaseError) -> None:
        field = getattr(self, error.field, None) if error.field else None
        if field is not None:
            field.errors = list(field.errors) + [str(error)]
        else:
            self.form_errors.append(str(error))


class StatusForm(FlaskForm):
    status = SelectField("Move the case to", choices={s.value: s.label for s in CaseStatus})
    outcome = TextAreaField(
        "Outcome",
        filters=[strip_text],
        validators=[Length(max=5_000), PlainText(multiline=True)],
        description="Required when the case is resolved: what changed for the member?",
    )
    note = TextAreaField(
        "Note for the timeline", filters=[strip_text], validators=[Length(max=5_000), PlainText(multiline=True)]
    )
    submit = SubmitField("Change status")

    def __init__(self, *args, current_status: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.current_status = current_status

    def validate_status(self, field):
        try:
            check_transition(self.current_status, field.data, require_outcome=False)
        except CaseError as error:
            raise ValidationError(str(error)) from None

    def validate_outcome(self, field):
        try:
            check_transition(self.current_status, self.status.data, field.data)
        except CaseError as error:
            if error.field == "outcome":
                raise ValidationError(str(error)) from None


class EntryForm(FlaskForm):
    kind = SelectField("Kind", choices={k.value: ENTRY_LABELS[k] for k in MANUAL_ENTRY_KINDS})
    happened_on = DateField(
        "Date", default=date.today, validators=[InputRequired("Give the date."), _DateInRange(not_after_today=True)]
    )
    body = TextAreaField(
        "What happened",
        filters=[strip_text],
        validators=[DataRequired("Write what happened."), Length(max=20_000), PlainText(multiline=True)],
    )
    submit = SubmitField("Add to timeline")


class AttachmentForm(FlaskForm):
    file = FileField(
        "File",
        validators=[FileRequired("Choose a file to attach.")],
        description=f"{storage.ACCEPTED_LABEL}; at most {storage.MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
    )
    submit = SubmitField("Attach")

    def validate_file(self, field):
        upload = field.data
        if upload is None or isinstance(upload, str):
            return
        upload.stream.seek(0, 2)
        size = upload.stream.tell()
        upload.stream.seek(0)
        if size > storage.MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"This file is {size / (1024 * 1024):.1f} MB; the most we accept is "
                f"{storage.MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
            )


class DeleteForm(FlaskForm):
    """Only the CSRF token: a button that removes something."""

    submit = SubmitField("Remove")


class MemberForm(FlaskForm):
    region_id = SelectField(
        "Region", coerce=optional_int, invalid_value_message=CHOOSE, validators=[InputRequired("Choose a region.")]
    )
    unit_id = SelectField("Unit", coerce=optional_int, invalid_value_message=CHOOSE, validators=[Optional()])
    name = StringField(
        "Name", filters=[strip_text], validators=[DataRequired("Give the member's name."), Length(max=120), PlainText()]
    )
    membership_number = StringField(
        "Membership number", filters=[strip_text], validators=[Optional(), Length(max=32), PlainText()]
    )
    email = StringField("E-mail", filters=[strip_text], validators=[Optional(), Length(max=254), PlainText()])
    phone = StringField("Phone", filters=[strip_text], validators=[Optional(), Length(max=40), PlainText()])
    grade = SelectField("Grade", choices=GRADE_CHOICES, validators=[Optional()])
    submit = SubmitField("Save member")

    def __init__(self, *args, regions, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.region_id.choices = [("", "— choose —")] + [(r.id, r.name) for r in regions]
        self.unit_id.choices = [("", "— none —")] + [(u.id, f"{u.name} ({u.region.name})") for u in units]
        self._unit_regions = {u.id: u.region_id for u in units}

    def validate_unit_id(self, field):
        if field.data is not None and self._unit_regions.get(field.data) != self.region_id.data:
            raise ValidationError("Choose a unit in the member's region.")

    def validate_email(self, field):
        if field.data and ("@" not in field.data or " " in field.data):
            raise ValidationError("Enter an e-mail address such as name@example.org.")


class CaseFilterForm(FlaskForm):
    """The list's filters, read from the query string (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    view = SelectField("Show", choices=dict(LIST_VIEWS), default="all", validators=[Optional()])
    q = StringField(
        "Search titles and descriptions", filters=[strip_text], validators=[Optional(), Length(max=200), PlainText()]
    )
    region_id = SelectField("Region", coerce=optional_int, invalid_value_message=CHOOSE, validators=[Optional()])
    unit_id = SelectField("Unit", coerce=optional_int, invalid_value_message=CHOOSE, validators=[Optional()])
    status = SelectField(
        "Status", choices={"": "Any", **{s.value: s.label for s in CaseStatus}}, validators=[Optional()]
    )
    category = SelectField("Category", choices={"": "Any", **CATEGORIES}, validators=[Optional()])
    risk = SelectField("Risk flag", choices={"": "Any", **RISK_FLAGS}, validators=[Optional()])
    assigned_rep_id = SelectField(
        "Assigned rep", coerce=optional_int, invalid_value_message=CHOOSE, validators=[Optional()]
    )
    opened_from = DateField("Opened from", validators=[Optional(), _DateInRange()])
    opened_to = DateField("Opened to", validators=[Optional(), _DateInRange()])
    sort = SelectField("Sort by", choices={"": "Last updated", **SORT_LABELS}, validators=[Optional()])
    direction = SelectField(
        "Order", choices={"": "Default", "asc": "Ascending", "desc": "Descending"}, validators=[Optional()]
    )

    def __init__(self, *args, regions, units, reps, **kwargs):
        super().__init__(*args, **kwargs)
        self.region_id.choices = [("", "Any")] + [(r.id, r.name) for r in regions]
        self.unit_id.choices = [("", "Any")] + [(u.id, f"{u.name} ({u.region.name})") for u in units]
        names: dict[int, str] = {}
        for rep, _region_id in reps:
            names.setdefault(rep.id, rep.display_name)
        self.assigned_rep_id.choices = [("", "Anyone")] + sorted(names.items(), key=lambda item: item[1])

    def validate_opened_to(self, field):
        if field.data and self.opened_from.data and field.data < self.opened_from.data:
            raise ValidationError("The end of the range is before its start.")

    def filters(self) -> dict:
        return {
            name: getattr(self, name).data
            for name in (
                "q",
                "region_id",
                "unit_id",
                "status",
                "category",
                "risk",
                "assigned_rep_id",
                "opened_from",
                "opened_to",
            )
        }


class ExportForm(FlaskForm):
    class Meta:
        csrf = False

    columns = SelectMultipleField("Columns", widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())

    def __init__(self, *args, columns, **kwargs):
        super().__init__(*args, **kwargs)
        self.columns.choices = [(name, col.label) for name, col in columns.items()]
