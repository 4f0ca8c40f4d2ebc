"""Casework forms. Each receives the choices in the user's scope as arguments, so a
crafted POST naming a region, unit, member or rep outside them fails validation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    Field,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .. import uploads
from ..accounts.models import User
from ..forms import OnceOnlyForm, PlainText, VersionField, select_choices, strip_text
from ..kernel import clock
from ..kernel.vocabulary import Grade
from ..regions.models import Region, Unit
from .models import MANUAL_ENTRY_KINDS, RISK_FLAGS, CaseCategory, CasePriority, CaseStatus, DeadlineRule, Member
from .services import (
    CASELOAD_MAX,
    EARLIEST_DATE,
    LIST_VIEWS,
    SORTS,
    WMT_MAX,
    CaseError,
    ExportColumn,
    check_transition,
    latest_allowed_date,
)

CHOOSE = "Choose one from the list."


def optional_int(value: Any) -> int | None:
    """Coerce for selects with a blank first choice: '' is None, anything else an int."""
    if value in (None, "", "None"):
        return None
    return int(value)


class RecordSelect(SelectField):
    """A choice of one record in the user's scope, by id: blank is none, anything that is
    not one of the ids offered is refused with one plain message."""

    def __init__(self, label: str, validators: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(label, validators, coerce=optional_int, **kwargs)
        self.invalid_value_message = CHOOSE


class _DateInRange:
    def __init__(self, *, not_after_today: bool = False):
        self.not_after_today = not_after_today

    def __call__(self, form: Any, field: Field) -> None:
        if field.data is None:
            return
        latest = clock.today() if self.not_after_today else latest_allowed_date()
        if not EARLIEST_DATE <= field.data <= latest:
            raise ValidationError(f"Give a date between {EARLIEST_DATE:%d %B %Y} and {latest:%d %B %Y}.")


def _unit_choices(units: Iterable[Unit]) -> list[tuple[Any, str]]:
    return [(u.id, f"{u.name} ({u.region.name})") for u in units]


def _rep_choices(reps: Iterable[tuple[User, int]]) -> list[tuple[Any, str]]:
    """Each rep once (a rep may cover several regions), by name."""
    names: dict[int, str] = {}
    for rep, _region_id in reps:
        names.setdefault(rep.id, rep.display_name)
    return sorted(names.items(), key=lambda item: item[1])


GRADE_CHOICES = {"": "— not given —", **Grade.labels()}
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
    region_id = RecordSelect("Region", [InputRequired("Choose a region.")])
    unit_id = RecordSelect("Unit", [Optional()])
    member_id = RecordSelect("Member", [Optional()], description="Leave blank when the concern is a whole team's.")
    category = SelectField(
        "Category", choices={"": "— choose —", **CaseCategory.labels()}, validators=[DataRequired("Choose a category.")]
    )
    title = StringField(
        "Title",
        filters=[strip_text],
        validators=[DataRequired("Give the case a short title."), Length(max=200), PlainText()],
        # Titles are listed and searched as they are; descriptions are kept encrypted.
        description="Shown in lists: no names or health details here — put them in the description.",
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
    priority = SelectField("Priority", choices=CasePriority.labels(), default=CasePriority.NORMAL.value)
    assigned_rep_id = RecordSelect("Assigned rep", [Optional()])
    next_action = StringField("Next action", filters=[strip_text], validators=[Length(max=200), PlainText()])
    next_action_on = DateField("Next action due", validators=[Optional(), _DateInRange()])
    has_evidence_consent = BooleanField(
        "The member agrees the facts (never who they are) may be used, anonymised, as evidence"
    )
    version = VersionField()
    submit = SubmitField("Save case")

    def __init__(
        self,
        *args: Any,
        regions: Sequence[Region],
        units: Sequence[Unit],
        members: Sequence[Member],
        reps: Sequence[tuple[User, int]],
        **kwargs: Any,
    ) -> None:
        """``units``/``members``: records in scope; ``reps``: (user, region_id) pairs in scope."""
        super().__init__(*args, **kwargs)
        self.region_id.choices = [("", "— choose —"), *((r.id, r.name) for r in regions)]
        self.unit_id.choices = [("", "— none —"), *_unit_choices(units)]
        self.member_id.choices = [
            ("", "— none: a team concern —"),
            *(
                (m.id, m.pseudonym + (f" · {m.grade}" if m.grade else "") + (f" · {m.unit.name}" if m.unit else ""))
                for m in members
            ),
        ]
        self.assigned_rep_id.choices = [("", "— nobody yet —"), *_rep_choices(reps)]
        self._unit_regions = {u.id: u.region_id for u in units}
        self._member_regions = {m.id: m.region_id for m in members}
        self._rep_regions: dict[int, set[int]] = {}
        for rep, region_id in reps:
            self._rep_regions.setdefault(rep.id, set()).add(region_id)

    def validate_unit_id(self, field: Field) -> None:
        if field.data is not None and self._unit_regions.get(field.data) != self.region_id.data:
            raise ValidationError("Choose a unit in the case's region.")

    def validate_member_id(self, field: Field) -> None:
        if field.data is not None and self._member_regions.get(field.data) != self.region_id.data:
            raise ValidationError("Choose a member of the case's region.")

    def validate_assigned_rep_id(self, field: Field) -> None:
        if field.data is not None and self.region_id.data not in self._rep_regions.get(field.data, set()):
            raise ValidationError("Assign the case to a rep of its own region.")

    def case_fields(self) -> dict[str, Any]:
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


class NewCaseForm(OnceOnlyForm, CaseForm):
    """Logging a case: sent twice, it logs one."""


class StatusForm(FlaskForm):
    status = SelectField("Move the case to", choices=CaseStatus.labels())
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

    def __init__(self, *args: Any, current_status: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current_status = current_status

    # The one status machine (services.check_transition) decides; the form only shows why.
    def validate_status(self, field: Field) -> None:
        try:
            check_transition(self.current_status, field.data, require_outcome=False)
        except CaseError as error:
            raise ValidationError(error.message) from None

    def validate_outcome(self, field: Field) -> None:
        try:
            check_transition(self.current_status, self.status.data, field.data)
        except CaseError as error:
            if error.field == "outcome":
                raise ValidationError(error.message) from None


class EntryForm(OnceOnlyForm):
    kind = SelectField("Kind", choices={kind.value: kind.label for kind in MANUAL_ENTRY_KINDS})
    happened_on = DateField(
        "Date", default=clock.today, validators=[InputRequired("Give the date."), _DateInRange(not_after_today=True)]
    )
    body = TextAreaField(
        "What happened",
        filters=[strip_text],
        validators=[DataRequired("Write what happened."), Length(max=20_000), PlainText(multiline=True)],
    )
    submit = SubmitField("Add to timeline")


class AttachmentForm(OnceOnlyForm):
    file = FileField(
        "File",
        validators=[FileRequired("Choose a file to attach.")],
        description=f"{uploads.ACCEPTED_LABEL}; at most {uploads.MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
    )
    submit = SubmitField("Attach")

    def validate_file(self, field: Field) -> None:
        upload = field.data
        if upload is None or isinstance(upload, str):
            return
        upload.stream.seek(0, 2)
        size = upload.stream.tell()
        upload.stream.seek(0)
        if size > uploads.MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"This file is {size / (1024 * 1024):.1f} MB; the most we accept is "
                f"{uploads.MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
            )


class MemberForm(FlaskForm):
    region_id = RecordSelect("Region", [InputRequired("Choose a region.")])
    unit_id = RecordSelect("Unit", [Optional()])
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

    def __init__(self, *args: Any, regions: Sequence[Region], units: Sequence[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region_id.choices = [("", "— choose —"), *((r.id, r.name) for r in regions)]
        self.unit_id.choices = [("", "— none —"), *_unit_choices(units)]
        self._unit_regions = {u.id: u.region_id for u in units}

    def validate_unit_id(self, field: Field) -> None:
        if field.data is not None and self._unit_regions.get(field.data) != self.region_id.data:
            raise ValidationError("Choose a unit in the member's region.")

    def validate_email(self, field: Field) -> None:
        if field.data and ("@" not in field.data or " " in field.data):
            raise ValidationError("Enter an e-mail address such as name@example.org.")


class NewMemberForm(OnceOnlyForm, MemberForm):
    """Recording a member: sent twice, it records one."""


class CaseFilterForm(FlaskForm):
    """The list's filters, read from the query string (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    view = SelectField("Show", choices=dict(LIST_VIEWS), default="all", validators=[Optional()])
    q = StringField(
        "Search titles and descriptions", filters=[strip_text], validators=[Optional(), Length(max=200), PlainText()]
    )
    region_id = RecordSelect("Region", [Optional()])
    unit_id = RecordSelect("Unit", [Optional()])
    status = SelectField("Status", choices={"": "Any", **CaseStatus.labels()}, validators=[Optional()])
    category = SelectField("Category", choices={"": "Any", **CaseCategory.labels()}, validators=[Optional()])
    risk = SelectField("Risk flag", choices={"": "Any", **RISK_FLAGS}, validators=[Optional()])
    assigned_rep_id = RecordSelect("Assigned rep", [Optional()])
    opened_from = DateField("Opened from", validators=[Optional(), _DateInRange()])
    opened_to = DateField("Opened to", validators=[Optional(), _DateInRange()])
    sort = SelectField("Sort by", choices={"": "Last updated", **SORT_LABELS}, validators=[Optional()])
    direction = SelectField(
        "Order", choices={"": "Default", "asc": "Ascending", "desc": "Descending"}, validators=[Optional()]
    )

    def __init__(
        self,
        *args: Any,
        regions: Sequence[Region],
        units: Sequence[Unit],
        reps: Sequence[tuple[User, int]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.region_id.choices = [("", "Any"), *((r.id, r.name) for r in regions)]
        self.unit_id.choices = [("", "Any"), *_unit_choices(units)]
        self.assigned_rep_id.choices = [("", "Anyone"), *_rep_choices(reps)]

    def validate_opened_to(self, field: Field) -> None:
        if field.data and self.opened_from.data and field.data < self.opened_from.data:
            raise ValidationError("The end of the range is before its start.")

    def filters(self) -> dict[str, Any]:
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

    def __init__(self, *args: Any, columns: Mapping[str, ExportColumn], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.columns.choices = [(name, col.label) for name, col in columns.items()]


# --- deadlines ------------------------------------------------------------------------------


class DeadlineTypeForm(FlaskForm):
    name = StringField(
        "Name",
        filters=[strip_text],
        validators=[DataRequired(message="Give the deadline type a name."), Length(max=120), PlainText()],
        description="For example: grievance appeal, disciplinary hearing, response to a representation.",
    )
    rule = SelectField("Counted in", choices=select_choices(DeadlineRule.choices()), validators=[DataRequired()])
    amount = IntegerField(
        "How many", validators=[InputRequired(message="Enter how many days or months."), NumberRange(min=1)]
    )
    remind_days_before = IntegerField(
        "Remind this many days before",
        default=3,
        validators=[
            InputRequired(message="Enter how many days before to remind (0: on the day only)."),
            NumberRange(min=0),
        ],
    )
    is_active = BooleanField("Offered for new deadlines", default=True)
    submit = SubmitField("Save the deadline type")


class NewDeadlineTypeForm(OnceOnlyForm, DeadlineTypeForm):
    """Creates a type: sent twice, it makes one."""


class DeadlineForm(OnceOnlyForm):
    deadline_type_id = SelectField("Deadline", coerce=int, validators=[DataRequired(message="Choose a deadline type.")])
    starts_on = DateField("Counted from", validators=[InputRequired(message="Enter the day the deadline counts from.")])
    submit = SubmitField("Set the deadline")

    def __init__(self, *args: Any, types: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline_type_id.choices = select_choices(
            [(0, "Choose…")] + [(t.id, f"{t.name} ({t.rule_text})") for t in types]
        )


class MemberFilterForm(FlaskForm):
    """The members list's search, from the query string (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(
        "Pseudonym, membership number or name",
        filters=[strip_text],
        validators=[Optional(), Length(max=200), PlainText()],
        description="A name is searched only among the members whose identity you may see.",
    )
    region_id = RecordSelect("Region", [Optional()])

    def __init__(self, *args: Any, regions: Sequence[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region_id.choices = [("", "Any"), *((r.id, r.name) for r in regions)]


class MembersImportForm(OnceOnlyForm):
    """A members file (CSV or XLSX); its rows are checked by the importer, not here."""

    file = FileField(
        "CSV or XLSX file",
        validators=[
            FileRequired(message="Choose a CSV or XLSX file to import."),
            FileAllowed(["csv", "txt", "xlsx"], "Choose a .csv or .xlsx file."),
        ],
        description="Header: membership_number,name,region,unit,grade,email",
    )
    dry_run = BooleanField("Only check the file (write nothing)")
    submit = SubmitField("Import")

    def claims_submission(self) -> bool:
        return not self.dry_run.data  # a check writes nothing, and may be run again
