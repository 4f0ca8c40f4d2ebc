"""Casework forms. Each receives the choices in the user's scope as arguments, so a
crafted POST naming a region, unit, member or rep outside them fails validation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
from ..kernel.labels import N_
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

CHOOSE = _l("Choose one from the list.")


def optional_int(value: Any) -> int | None:
    """Coerce for selects with a blank first choice: '' is None, anything else an int."""
    if value in (None, "", "None"):
        return None
    return int(value)


class RecordSelect(SelectField):
    """A choice of one record in the user's scope, by id: blank is none, anything that is
    not one of the ids offered is refused with one plain message."""

    def __init__(self, label: Any, validators: list[Any] | None = None, **kwargs: Any) -> None:
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
            raise ValidationError(
                _l(
                    "Give a date between %(earliest)s and %(latest)s.",
                    earliest=_long_date(EARLIEST_DATE),
                    latest=_long_date(latest),
                )
            )


def _long_date(day: date) -> str:
    return format_date(day, "dd MMMM y")


def _unit_choices(units: Iterable[Unit]) -> list[tuple[Any, str]]:
    return [(u.id, f"{u.name} ({u.region.name})") for u in units]


def _rep_choices(reps: Iterable[tuple[User, int]]) -> list[tuple[Any, str]]:
    """Each rep once (a rep may cover several regions), by name."""
    names: dict[int, str] = {}
    for rep, _region_id in reps:
        names.setdefault(rep.id, rep.display_name)
    return sorted(names.items(), key=lambda item: item[1])


GRADE_CHOICES = select_choices([("", N_("— not given —")), *Grade.choices()])
SORT_LABELS = {
    "reference": N_("Reference"),
    "title": N_("Title"),
    "category": N_("Category"),
    "status": N_("Status"),
    "wmt_percent": N_("WMT %"),
    "opened_on": N_("Opened on"),
    "next_action_on": N_("Next action due"),
    "updated_at": N_("Last updated"),
}
assert set(SORT_LABELS) == set(SORTS)


class CaseForm(FlaskForm):
    region_id = RecordSelect(_l("Region"), [InputRequired(_l("Choose a region."))])
    unit_id = RecordSelect(_l("Unit"), [Optional()])
    member_id = RecordSelect(
        _l("Member"), [Optional()], description=_l("Leave blank when the concern is a whole team's.")
    )
    category = SelectField(
        _l("Category"),
        choices=select_choices([("", N_("— choose —")), *CaseCategory.choices()]),
        validators=[DataRequired(_l("Choose a category."))],
    )
    title = StringField(
        _l("Title"),
        filters=[strip_text],
        validators=[DataRequired(_l("Give the case a short title.")), Length(max=200), PlainText()],
        # Titles are listed and searched as they are; descriptions are kept encrypted.
        description=_l("Shown in lists: no names or health details here — put them in the description."),
    )
    description = TextAreaField(
        _l("What is happening"), filters=[strip_text], validators=[Length(max=20_000), PlainText(multiline=True)]
    )
    grade = SelectField(_l("Grade"), choices=GRADE_CHOICES, validators=[Optional()])
    wmt_percent = IntegerField(
        _l("WMT %"),
        validators=[Optional(), NumberRange(0, WMT_MAX, _l("WMT must be between %(min)s and %(max)s %%."))],
        description=_l("The workload management tool figure when the concern was raised; 100 is full."),
    )
    caseload = IntegerField(
        _l("Caseload"),
        validators=[Optional(), NumberRange(0, CASELOAD_MAX, _l("Caseload must be between %(min)s and %(max)s."))],
    )
    has_high_risk_cases = BooleanField(_l(RISK_FLAGS["has_high_risk_cases"]))
    has_mappa_cases = BooleanField(_l(RISK_FLAGS["has_mappa_cases"]))
    has_domestic_abuse_cases = BooleanField(_l(RISK_FLAGS["has_domestic_abuse_cases"]))
    has_protected_caseload_breach = BooleanField(_l(RISK_FLAGS["has_protected_caseload_breach"]))
    has_no_cover = BooleanField(_l(RISK_FLAGS["has_no_cover"]))
    priority = SelectField(
        _l("Priority"), choices=select_choices(CasePriority.choices()), default=CasePriority.NORMAL.value
    )
    assigned_rep_id = RecordSelect(_l("Assigned rep"), [Optional()])
    next_action = StringField(_l("Next action"), filters=[strip_text], validators=[Length(max=200), PlainText()])
    next_action_on = DateField(_l("Next action due"), validators=[Optional(), _DateInRange()])
    has_evidence_consent = BooleanField(
        _l("The member agrees the facts (never who they are) may be used, anonymised, as evidence")
    )
    version = VersionField()
    submit = SubmitField(_l("Save case"))

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
        self.region_id.choices = [("", _("— choose —")), *((r.id, r.name) for r in regions)]
        self.unit_id.choices = [("", _("— none —")), *_unit_choices(units)]
        self.member_id.choices = [
            ("", _("— none: a team concern —")),
            *(
                (m.id, m.pseudonym + (f" · {m.grade}" if m.grade else "") + (f" · {m.unit.name}" if m.unit else ""))
                for m in members
            ),
        ]
        self.assigned_rep_id.choices = [("", _("— nobody yet —")), *_rep_choices(reps)]
        self._unit_regions = {u.id: u.region_id for u in units}
        self._member_regions = {m.id: m.region_id for m in members}
        self._rep_regions: dict[int, set[int]] = {}
        for rep, region_id in reps:
            self._rep_regions.setdefault(rep.id, set()).add(region_id)

    def validate_unit_id(self, field: Field) -> None:
        if field.data is not None and self._unit_regions.get(field.data) != self.region_id.data:
            raise ValidationError(_l("Choose a unit in the case's region."))

    def validate_member_id(self, field: Field) -> None:
        if field.data is not None and self._member_regions.get(field.data) != self.region_id.data:
            raise ValidationError(_l("Choose a member of the case's region."))

    def validate_assigned_rep_id(self, field: Field) -> None:
        if field.data is not None and self.region_id.data not in self._rep_regions.get(field.data, set()):
            raise ValidationError(_l("Assign the case to a rep of its own region."))

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
    status = SelectField(_l("Move the case to"), choices=select_choices(CaseStatus.choices()))
    outcome = TextAreaField(
        _l("Outcome"),
        filters=[strip_text],
        validators=[Length(max=5_000), PlainText(multiline=True)],
        description=_l("Required when the case is resolved: what changed for the member?"),
    )
    note = TextAreaField(
        _l("Note for the timeline"), filters=[strip_text], validators=[Length(max=5_000), PlainText(multiline=True)]
    )
    submit = SubmitField(_l("Change status"))

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
    kind = SelectField(_l("Kind"), choices=select_choices((kind.value, kind.label) for kind in MANUAL_ENTRY_KINDS))
    happened_on = DateField(
        _l("Date"),
        default=clock.today,
        validators=[InputRequired(_l("Give the date.")), _DateInRange(not_after_today=True)],
    )
    body = TextAreaField(
        _l("What happened"),
        filters=[strip_text],
        validators=[DataRequired(_l("Write what happened.")), Length(max=20_000), PlainText(multiline=True)],
    )
    submit = SubmitField(_l("Add to timeline"))


class AttachmentForm(OnceOnlyForm):
    file = FileField(
        _l("File"),
        validators=[FileRequired(_l("Choose a file to attach."))],
        description=_l(
            "%(accepted)s; at most %(megabytes)s MB.",
            accepted=uploads.ACCEPTED_LABEL,
            megabytes=uploads.MAX_UPLOAD_BYTES // (1024 * 1024),
        ),
    )
    submit = SubmitField(_l("Attach"))

    def validate_file(self, field: Field) -> None:
        upload = field.data
        if upload is None or isinstance(upload, str):
            return
        upload.stream.seek(0, 2)
        size = upload.stream.tell()
        upload.stream.seek(0)
        if size > uploads.MAX_UPLOAD_BYTES:
            raise ValidationError(
                _(
                    "This file is %(size).1f MB; the most we accept is %(most)s MB.",
                    size=size / (1024 * 1024),
                    most=uploads.MAX_UPLOAD_BYTES // (1024 * 1024),
                )
            )


class MemberForm(FlaskForm):
    region_id = RecordSelect(_l("Region"), [InputRequired(_l("Choose a region."))])
    unit_id = RecordSelect(_l("Unit"), [Optional()])
    name = StringField(
        _l("Name"),
        filters=[strip_text],
        validators=[DataRequired(_l("Give the member's name.")), Length(max=120), PlainText()],
    )
    membership_number = StringField(
        _l("Membership number"), filters=[strip_text], validators=[Optional(), Length(max=32), PlainText()]
    )
    email = StringField(_l("E-mail"), filters=[strip_text], validators=[Optional(), Length(max=254), PlainText()])
    phone = StringField(_l("Phone"), filters=[strip_text], validators=[Optional(), Length(max=40), PlainText()])
    grade = SelectField(_l("Grade"), choices=GRADE_CHOICES, validators=[Optional()])
    submit = SubmitField(_l("Save member"))

    def __init__(self, *args: Any, regions: Sequence[Region], units: Sequence[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region_id.choices = [("", _("— choose —")), *((r.id, r.name) for r in regions)]
        self.unit_id.choices = [("", _("— none —")), *_unit_choices(units)]
        self._unit_regions = {u.id: u.region_id for u in units}

    def validate_unit_id(self, field: Field) -> None:
        if field.data is not None and self._unit_regions.get(field.data) != self.region_id.data:
            raise ValidationError(_l("Choose a unit in the member's region."))

    def validate_email(self, field: Field) -> None:
        if field.data and ("@" not in field.data or " " in field.data):
            raise ValidationError(_l("Enter an e-mail address such as name@example.org."))


class NewMemberForm(OnceOnlyForm, MemberForm):
    """Recording a member: sent twice, it records one."""


class CaseFilterForm(FlaskForm):
    """The list's filters, read from the query string (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    view = SelectField(_l("Show"), choices=select_choices(LIST_VIEWS.items()), default="all", validators=[Optional()])
    q = StringField(
        _l("Search titles and descriptions"),
        filters=[strip_text],
        validators=[Optional(), Length(max=200), PlainText()],
    )
    region_id = RecordSelect(_l("Region"), [Optional()])
    unit_id = RecordSelect(_l("Unit"), [Optional()])
    status = SelectField(
        _l("Status"), choices=select_choices([("", N_("Any")), *CaseStatus.choices()]), validators=[Optional()]
    )
    category = SelectField(
        _l("Category"), choices=select_choices([("", N_("Any")), *CaseCategory.choices()]), validators=[Optional()]
    )
    risk = SelectField(
        _l("Risk flag"), choices=select_choices([("", N_("Any")), *RISK_FLAGS.items()]), validators=[Optional()]
    )
    assigned_rep_id = RecordSelect(_l("Assigned rep"), [Optional()])
    opened_from = DateField(_l("Opened from"), validators=[Optional(), _DateInRange()])
    opened_to = DateField(_l("Opened to"), validators=[Optional(), _DateInRange()])
    sort = SelectField(
        _l("Sort by"), choices=select_choices([("", N_("Last updated")), *SORT_LABELS.items()]), validators=[Optional()]
    )
    direction = SelectField(
        _l("Order"),
        choices=select_choices([("", N_("Default")), ("asc", N_("Ascending")), ("desc", N_("Descending"))]),
        validators=[Optional()],
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
        self.region_id.choices = [("", _("Any")), *((r.id, r.name) for r in regions)]
        self.unit_id.choices = [("", _("Any")), *_unit_choices(units)]
        self.assigned_rep_id.choices = [("", _("Anyone")), *_rep_choices(reps)]

    def validate_opened_to(self, field: Field) -> None:
        if field.data and self.opened_from.data and field.data < self.opened_from.data:
            raise ValidationError(_l("The end of the range is before its start."))

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

    columns = SelectMultipleField(_l("Columns"), widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())

    def __init__(self, *args: Any, columns: Mapping[str, ExportColumn], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.columns.choices = [(name, col.label) for name, col in columns.items()]


# --- deadlines ------------------------------------------------------------------------------


class DeadlineTypeForm(FlaskForm):
    name = StringField(
        _l("Name"),
        filters=[strip_text],
        validators=[DataRequired(message=_l("Give the deadline type a name.")), Length(max=120), PlainText()],
        description=_l("For example: grievance appeal, disciplinary hearing, response to a representation."),
    )
    rule = SelectField(_l("Counted in"), choices=select_choices(DeadlineRule.choices()), validators=[DataRequired()])
    amount = IntegerField(
        _l("How many"), validators=[InputRequired(message=_l("Enter how many days or months.")), NumberRange(min=1)]
    )
    remind_days_before = IntegerField(
        _l("Remind this many days before"),
        default=3,
        validators=[
            InputRequired(message=_l("Enter how many days before to remind (0: on the day only).")),
            NumberRange(min=0),
        ],
    )
    is_active = BooleanField(_l("Offered for new deadlines"), default=True)
    submit = SubmitField(_l("Save the deadline type"))


class NewDeadlineTypeForm(OnceOnlyForm, DeadlineTypeForm):
    """Creates a type: sent twice, it makes one."""


class DeadlineForm(OnceOnlyForm):
    deadline_type_id = SelectField(
        _l("Deadline"), coerce=int, validators=[DataRequired(message=_l("Choose a deadline type."))]
    )
    starts_on = DateField(
        _l("Counted from"), validators=[InputRequired(message=_l("Enter the day the deadline counts from."))]
    )
    submit = SubmitField(_l("Set the deadline"))

    def __init__(self, *args: Any, types: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline_type_id.choices = select_choices(
            [(0, N_("Choose…"))] + [(t.id, f"{t.name} ({t.rule_text})") for t in types]
        )


class MemberFilterForm(FlaskForm):
    """The members list's search, from the query string (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Pseudonym, membership number or name"),
        filters=[strip_text],
        validators=[Optional(), Length(max=200), PlainText()],
        description=_l("A name is searched only among the members whose identity you may see."),
    )
    region_id = RecordSelect(_l("Region"), [Optional()])

    def __init__(self, *args: Any, regions: Sequence[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region_id.choices = [("", _("Any")), *((r.id, r.name) for r in regions)]


class MembersImportForm(OnceOnlyForm):
    """A members file (CSV or XLSX); its rows are checked by the importer, not here."""

    file = FileField(
        _l("CSV or XLSX file"),
        validators=[
            FileRequired(message=_l("Choose a CSV or XLSX file to import.")),
            FileAllowed(["csv", "txt", "xlsx"], _l("Choose a .csv or .xlsx file.")),
        ],
        description=_l("Header: membership_number,name,region,unit,grade,email"),
    )
    dry_run = BooleanField(_l("Only check the file (write nothing)"))
    submit = SubmitField(_l("Import"))

    def claims_submission(self) -> bool:
        return not self.dry_run.data  # a check writes nothing, and may be run again
