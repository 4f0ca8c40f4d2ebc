"""Casework pages. Each view parses the request, calls one service and renders; every
record is loaded through ``get_case_for`` / ``get_member_for`` (out of region = 404).

No view commits or rolls back: the request does (``kernel.transaction``), and a refused
change is put back on its form by ``errors_on``.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select

from .. import storage, uploads
from ..accounts.services import reps_in_scope
from ..charts import bar_chart_svg, svg_data_uri
from ..csvexport import csv_response
from ..forms import ConfirmForm
from ..kernel import clock
from ..kernel.transaction import errors_on
from ..main.home import Panel, home_panel
from ..paging import paginate
from ..regions.services import regions_in_scope, units_in_scope
from . import bp
from .deadlines import overdue_deadline_case_ids
from .forms import (
    AttachmentForm,
    CaseFilterForm,
    CaseForm,
    EntryForm,
    ExportForm,
    MemberFilterForm,
    MemberForm,
    MembersImportForm,
    NewCaseForm,
    NewMemberForm,
    StatusForm,
)
from .importer import HEADER, import_members
from .models import Case, CaseStatus
from .sections import case_page_sections
from .services import (
    DEFAULT_EXPORT_COLUMNS,
    LIST_VIEWS,
    MEMBERS_PAGE_SIZE,
    PAGE_SIZE,
    add_attachment,
    add_entry,
    allowed_transitions,
    case_counts,
    case_figures,
    case_list_query,
    change_status,
    create_case,
    create_member,
    delete_attachment,
    differences,
    export_cases,
    export_columns_for,
    get_attachment,
    get_case_for,
    get_member_for,
    home_summary,
    may_see_identity,
    member_list_query,
    members_in_scope,
    record_download,
    record_identity_viewed,
    update_case,
    update_member,
    view_case,
    view_member,
)

FILTER_ARGS = (
    "view",
    "q",
    "region_id",
    "unit_id",
    "status",
    "category",
    "risk",
    "assigned_rep_id",
    "opened_from",
    "opened_to",
    "sort",
    "direction",
)


def _filter_form() -> CaseFilterForm:
    return CaseFilterForm(
        formdata=request.args,
        regions=regions_in_scope(current_user),
        units=units_in_scope(current_user),
        reps=reps_in_scope(current_user),
    )


def _filtered_query(form: CaseFilterForm) -> Select:
    return case_list_query(
        current_user,
        view=form.view.data or "all",
        filters=form.filters(),
        sort=form.sort.data or None,
        direction=form.direction.data or None,
    )


@bp.route("/")
def index():
    """All cases in my regions, mine, or overdue; filtered, searched, sorted and paged."""
    form = _filter_form()
    if not form.validate():
        return render_template(
            "cases/list.html",
            form=form,
            pagination=None,
            views=LIST_VIEWS,
            export_form=None,
            current_args={},
            today=clock.today(),
        ), 400
    pagination = paginate(_filtered_query(form), PAGE_SIZE)
    export_form = ExportForm(
        formdata=None, columns=export_columns_for(current_user), data={"columns": list(DEFAULT_EXPORT_COLUMNS)}
    )
    current = {name: request.args.get(name) for name in FILTER_ARGS if request.args.get(name)}
    return render_template(
        "cases/list.html",
        form=form,
        pagination=pagination,
        views=LIST_VIEWS,
        export_form=export_form,
        current_args=current,
        today=clock.today(),
        overdue_deadline_ids=overdue_deadline_case_ids([case.id for case in pagination.items]),
    )


@bp.route("/figures")
def figures():
    """Cases by category and status in my regions: a chart and the table behind it."""
    regions = regions_in_scope(current_user)
    region_id = request.args.get("region_id", type=int)
    if region_id is not None and region_id not in {r.id for r in regions}:
        abort(404)
    rows = case_figures(current_user, region_id)
    chart = None
    if rows:
        chart = svg_data_uri(
            bar_chart_svg(
                _("Live cases by category"), [_(row["label"]) for row in rows], [Decimal(row["live"]) for row in rows]
            )
        )
    return render_template(
        "cases/figures.html", rows=rows, chart=chart, regions=regions, region_id=region_id, statuses=list(CaseStatus)
    )


@bp.route("/export.csv")
def export():
    """The current filtered list as CSV, with the columns chosen; audited."""
    form = _filter_form()
    export_form = ExportForm(formdata=request.args, columns=export_columns_for(current_user))
    if not form.validate() or not export_form.validate():
        return render_template(
            "cases/list.html",
            form=form,
            pagination=None,
            views=LIST_VIEWS,
            export_form=export_form,
            current_args={},
            today=clock.today(),
        ), 400
    header, rows = export_cases(current_user, _filtered_query(form), export_form.columns.data or [])
    return csv_response(f"cases-{clock.today().isoformat()}.csv", header, rows)


def _case_form(formdata: Any = None, form_class: type[CaseForm] = CaseForm, **kwargs: Any) -> CaseForm:
    user = current_user
    return form_class(
        formdata=formdata,
        regions=regions_in_scope(user),
        units=units_in_scope(user),
        members=members_in_scope(user),
        reps=reps_in_scope(user),
        **kwargs,
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    if request.method == "POST":
        form = _case_form(request.form, NewCaseForm)
    else:
        member_id = request.args.get("member", type=int)
        member = get_member_for(current_user, member_id) if member_id else None
        only_region = regions_in_scope(current_user)
        defaults = {
            "region_id": member.region_id if member else (only_region[0].id if len(only_region) == 1 else None),
            "member_id": member.id if member else None,
            "unit_id": member.unit_id if member else None,
            "grade": member.grade if member else None,
        }
        form = _case_form(None, NewCaseForm, data=defaults)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.validate():
        with errors_on(form) as outcome:
            case = create_case(current_user, **form.case_fields())
            flash(_("Case %(ref)s logged.", ref=case.reference), "success")
            return redirect(url_for("cases.detail", ref=case.reference))
        status = outcome.status_code  # 409 when no free reference could be found: try again
    return render_template("cases/new.html", form=form), status


def _render_detail(
    case: Case,
    *,
    status_form: StatusForm | None = None,
    entry_form: EntryForm | None = None,
    attachment_form: AttachmentForm | None = None,
    code: int = 200,
) -> tuple[str, int]:
    transitions = allowed_transitions(case.status)
    status_form = status_form or StatusForm(formdata=None, current_status=case.status)
    status_form.status.choices = [(s.value, s.label) for s in transitions]  # offer only the allowed moves
    return render_template(
        "cases/detail.html",
        case=case,
        status_form=status_form,
        transitions=transitions,
        entry_form=entry_form or EntryForm(formdata=None),
        attachment_form=attachment_form or AttachmentForm(formdata=None),
        delete_form=ConfirmForm(formdata=None),
        shows_identity=False,
        today=clock.today(),
        sections=case_page_sections(current_user, case),
    ), code


@bp.route("/<ref>")
def detail(ref: str):
    return _render_detail(view_case(current_user, ref))


@bp.route("/<ref>/edit", methods=["GET", "POST"])
def edit(ref: str):
    case = get_case_for(current_user, ref)
    if request.method == "GET":
        form = _case_form(None, obj=case)
        return render_template("cases/edit.html", form=form, case=case, conflict=None)
    form = _case_form(request.form)
    if form.validate():
        with errors_on(form) as outcome:
            changed = update_case(current_user, case, expected_version=form.version.data, **form.case_fields())
            flash(_("Case %(ref)s saved.", ref=case.reference) if changed else _("Nothing was changed."), "success")
            return redirect(url_for("cases.detail", ref=case.reference))
        if outcome.conflict is not None:
            # The page's own box says what happened and what differs; no second message above the form.
            form.form_errors.remove(outcome.conflict.message)
            # Rolled back, so the case reads as saved now. A version clash found only at the write
            # (saved between our read and our write) comes without the list of what differs.
            changes = outcome.conflict.changes or differences(case, form.case_fields())
            form.version.data = case.version  # saving again now overwrites, knowingly
            return render_template("cases/edit.html", form=form, case=case, conflict=changes), 409
    return render_template("cases/edit.html", form=form, case=case, conflict=None), 400


@bp.route("/<ref>/status", methods=["POST"])
def status(ref: str):
    case = get_case_for(current_user, ref)
    form = StatusForm(current_status=case.status)
    if form.validate():
        with errors_on(form, "status") as outcome:
            change_status(current_user, case, form.status.data, outcome=form.outcome.data, note=form.note.data)
            flash(_("%(ref)s is now %(status)s.", ref=case.reference, status=_(case.status_label).lower()), "success")
            return redirect(url_for("cases.detail", ref=case.reference))
        if outcome.conflict is not None:
            flash(_("Someone else changed this case just now. Check its status and try again."), "warning")
            return redirect(url_for("cases.detail", ref=ref))
    return _render_detail(case, status_form=form, code=400)


@bp.route("/<ref>/timeline", methods=["POST"])
def timeline(ref: str):
    case = get_case_for(current_user, ref)
    form = EntryForm()
    if form.validate():
        with errors_on(form, "body"):
            add_entry(
                current_user,
                case,
                kind=form.kind.data or "",
                happened_on=form.happened_on.data or clock.today(),
                body=form.body.data or "",
            )
            flash(_("Added to the timeline."), "success")
            return redirect(url_for("cases.detail", ref=case.reference) + "#timeline")
    return _render_detail(case, entry_form=form, code=400)


@bp.route("/<ref>/attachments", methods=["POST"])
def upload(ref: str):
    case = get_case_for(current_user, ref)
    form = AttachmentForm()
    if form.validate():
        upload_file = form.file.data
        # A file stored for an upload that is then refused or rolled back is removed by the store.
        with errors_on(form, "file"):
            attachment = add_attachment(
                current_user,
                case,
                filename=upload_file.filename,
                data=upload_file.stream.read(uploads.MAX_UPLOAD_BYTES + 1),
            )
            flash(_("%(name)s attached.", name=attachment.original_name), "success")
            return redirect(url_for("cases.detail", ref=case.reference) + "#attachments")
    return _render_detail(case, attachment_form=form, code=400)


@bp.route("/<ref>/attachments/<id:attachment_id>/delete", methods=["POST"])
def delete_upload(ref: str, attachment_id: int):
    case = get_case_for(current_user, ref)
    attachment = get_attachment(case, attachment_id)
    if not ConfirmForm().validate():
        abort(400)
    name = attachment.original_name
    delete_attachment(current_user, case, attachment)  # the file goes once the deletion commits
    flash(_("%(name)s removed.", name=name), "success")
    return redirect(url_for("cases.detail", ref=case.reference) + "#attachments")


@bp.route("/<ref>/attachments/<id:attachment_id>")
def download(ref: str, attachment_id: int):
    """Only through the parent case, always as a download."""
    case = get_case_for(current_user, ref)
    attachment = get_attachment(case, attachment_id)
    try:
        data = storage.read(attachment.stored_name)  # decrypted here, never written out in clear
    except (ValueError, FileNotFoundError):
        abort(404)
    record_download(current_user, case, attachment)
    response = send_file(
        io.BytesIO(data),
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.original_name,
        max_age=0,
        conditional=False,
        etag=False,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# ---------------------------------------------------------------- members


def _member_form(formdata: Any = None, form_class: type[MemberForm] = MemberForm, **kwargs: Any) -> MemberForm:
    return form_class(
        formdata=formdata, regions=regions_in_scope(current_user), units=units_in_scope(current_user), **kwargs
    )


@bp.route("/members/")
def members():
    """Members in my regions, by pseudonym, paged and searchable; identities are on each
    member's own page."""
    form = MemberFilterForm(formdata=request.args, regions=regions_in_scope(current_user))
    valid = form.validate()
    stmt = member_list_query(current_user, form.q.data if valid else None, form.region_id.data if valid else None)
    page = paginate(stmt, MEMBERS_PAGE_SIZE)
    counts = case_counts([member.id for member in page.items])
    status = 200 if valid else 400
    return render_template("cases/members.html", form=form, page=page, counts=counts), status


@bp.route("/members/import", methods=["GET", "POST"])
def members_import():
    """Members in bulk from a CSV or XLSX file: all of it or nothing (``importer.py``)."""
    if not (current_user.is_admin or current_user.is_rep):
        abort(403)  # officials see pseudonyms only, so they do not record identities either
    form = MembersImportForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        report = import_members(
            current_user, upload.stream, filename=upload.filename or "", dry_run=bool(form.dry_run.data)
        )
        if report.is_ok and not report.is_dry_run:
            flash(report.summary(), "success")
            return redirect(url_for("cases.members"))
    status = 400 if form.errors or (report is not None and not report.is_ok) else 200
    return render_template("cases/members_import.html", form=form, report=report, header=",".join(HEADER)), status


@bp.route("/members/new", methods=["GET", "POST"])
def member_new():
    if not (current_user.is_admin or current_user.is_rep):
        abort(403)  # officials see pseudonyms only, so they do not record identities either
    regions = regions_in_scope(current_user)
    form = _member_form(
        request.form if request.method == "POST" else None,
        NewMemberForm,
        data={"region_id": regions[0].id} if len(regions) == 1 else None,
    )
    if request.method == "POST" and form.validate():
        with errors_on(form, "name"):
            member = create_member(
                current_user,
                region_id=form.region_id.data,
                unit_id=form.unit_id.data,
                name=form.name.data or "",
                membership_number=form.membership_number.data,
                email=form.email.data,
                phone=form.phone.data,
                grade=form.grade.data or None,
            )
            flash(_("%(pseudonym)s recorded.", pseudonym=member.pseudonym), "success")
            return redirect(url_for("cases.member_detail", member_id=member.id))
    return render_template("cases/member_new.html", form=form), (400 if request.method == "POST" else 200)


@bp.route("/members/<id:member_id>/edit", methods=["GET", "POST"])
def member_edit(member_id: int):
    member = get_member_for(current_user, member_id)
    if not may_see_identity(current_user, member):
        abort(403)
    if request.method == "GET":
        form = _member_form(None, obj=member)
        record_identity_viewed(current_user, member, "member edit form")
        return render_template("cases/member_edit.html", form=form, member=member)
    form = _member_form(request.form)
    form.region_id.data = member.region_id  # a member's region is not changed here
    if form.validate():
        with errors_on(form, "name"):
            update_member(
                current_user,
                member,
                unit_id=form.unit_id.data,
                name=form.name.data or "",
                membership_number=form.membership_number.data,
                email=form.email.data,
                phone=form.phone.data,
                grade=form.grade.data or None,
            )
            flash(_("%(pseudonym)s saved.", pseudonym=member.pseudonym), "success")
            return redirect(url_for("cases.member_detail", member_id=member.id))
    return render_template("cases/member_edit.html", form=form, member=member), 400


@bp.route("/members/<id:member_id>")
def member_detail(member_id: int):
    member, shows_identity = view_member(current_user, member_id)
    return render_template("cases/member_detail.html", member=member, shows_identity=shows_identity)


# ---------------------------------------------------------------- home page


@home_panel
def casework_panel(user: Any) -> Panel | None:
    """My open cases, overdue next actions and recently updated cases."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Panel(
        title=_("Casework") if user.is_rep else _("Cases across the regions"),
        template="cases/_panel.html",
        context=home_summary(user),
        link_endpoint="cases.index",
        link_label=_("All cases"),
    )
