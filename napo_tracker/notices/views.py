"""The notice pages: list, figures, one notice and its steps, the private calendar feed.

Views hold no commit or rollback: the request boundary commits a response below 400 and
rolls back anything else, and ``errors_on`` shows a service's refusal next to the field.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import Field

from ..accounts.models import User
from ..audit.models import AuditAction, record
from ..cases.deadlines import calendar_deadlines
from ..cases.sections import case_page_section
from ..cases.services import members_in_scope
from ..charts import bar_chart_svg, line_chart_svg, svg_data_uri
from ..csvexport import csv_response
from ..extensions import db
from ..forms import ConfirmForm
from ..kernel.clock import today
from ..kernel.transaction import errors_on
from ..kernel.vocabulary import Role
from ..main.home import Panel, home_panel
from ..paging import paginate
from ..pdf import PDFRenderError
from ..regions.scoping import region_ids_for
from ..regions.services import regions_in_scope, units_in_scope
from . import bp, ical
from .forms import (
    EscalateForm,
    FilterForm,
    HandOverForm,
    NewNoticeForm,
    NoticeForm,
    ResolveForm,
    ResponseForm,
    ServeForm,
)
from .handover import caseloads, hand_over, rep_caseload
from .models import EscalationStep, ForeseeabilityNotice, NoticeOutcome, NoticeStatus
from .services import (
    EXPORT_HEADER,
    LETTER_LANGUAGES,
    NoticeDetails,
    NoticeFilters,
    active_due_on,
    attention_needed,
    calendar_notices,
    calendar_token_for,
    create_notice,
    deadline_state,
    escalate_notice,
    export_notices,
    format_wmt,
    get_notice_for,
    letter_for_download,
    new_calendar_token,
    next_escalation_steps,
    notices_for,
    notices_for_case,
    notices_served_by_region_month,
    record_response,
    request_service,
    resolve_notice,
    revoke_calendar_token,
    served_by_month_series,
    served_by_region,
    update_notice,
    user_for_calendar_token,
    view_notice,
)

PAGE_SIZE = 50
# The figures' outcome columns: none recorded yet, then each outcome in its order.
OUTCOME_KEYS = ["awaiting", *(outcome.value for outcome in NoticeOutcome)]


@bp.app_context_processor
def notice_helpers():
    return {"notice_deadline": deadline_state, "notice_due_on": active_due_on, "format_wmt": format_wmt}


@case_page_section
def notices_about_case(user, case):
    """A case's page lists the notices served about it, as the user may see them."""
    return Panel(
        _("Foreseeability notices"),
        "notices/_case_section.html",
        {"anchor": "notices", "notices": notices_for_case(user, case.id)},
    )


@home_panel
def deadlines_panel(user):
    """Reps (and officials) see the notices whose deadlines are close or past."""
    if not getattr(user, "is_authenticated", False) or user.is_admin:
        return None
    lines, total = attention_needed(user, limit=10)
    return Panel(
        _("Foreseeability notices: deadlines"),
        "notices/_panel.html",
        {"notices": lines, "more": max(total - len(lines), 0)},
        "notices.index",
        _("All notices"),
    )


# --- choices --------------------------------------------------------------------------------


def _rep_choices() -> list[tuple[int, str]]:
    """Active reps who share a region with the user (officials: every active rep)."""
    stmt = (
        select(User)
        .where(User.is_active.is_(True), User.role == Role.REP)
        .options(selectinload(User.regions))  # not one query per rep
        .order_by(User.display_name)
    )
    ids = region_ids_for(current_user)
    reps = [
        u
        for u in db.session.scalars(stmt)
        if u.id != current_user.id and (ids is None or {r.id for r in u.regions} & ids)
    ]
    return [(u.id, f"{u.display_name} ({u.region_names})") for u in reps]


def _notice_form(form_class: type[NoticeForm] = NoticeForm, **kwargs) -> NoticeForm:
    # Members appear by pseudonym only: choosing one reveals nobody's identity.
    members = [(m.id, f"{m.pseudonym} ({m.region.name})") for m in members_in_scope(current_user)]
    return form_class(
        region_choices=[(r.id, r.name) for r in regions_in_scope(current_user)],
        unit_choices=[(u.id, f"{u.name} ({u.region.name})") for u in units_in_scope(current_user)],
        rep_choices=_rep_choices(),
        member_choices=members,
        **kwargs,
    )


def _details(form: NoticeForm) -> NoticeDetails:
    details = form.details()
    details.assigned_rep_id = details.assigned_rep_id or current_user.id
    return details


# --- list, figures, export ------------------------------------------------------------------


def _filters() -> tuple[FilterForm, NoticeFilters]:
    form = FilterForm(
        formdata=request.args,
        region_choices=[(r.id, r.name) for r in regions_in_scope(current_user)],
        unit_choices=[(u.id, f"{u.name} ({u.region.name})") for u in units_in_scope(current_user)],
    )
    form.validate()

    def chosen(field: Field):
        """A filter value that is not among the choices is dropped; the user's scope applies in SQL anyway."""
        return None if field.errors else field.data

    filters = NoticeFilters(
        status=chosen(form.status) or "",
        region_id=chosen(form.region) or None,
        unit_id=chosen(form.unit) or None,
        due=chosen(form.due) or "",
        sort=chosen(form.sort) or "due",
    )
    return form, filters


@bp.route("/")
def index():
    """Notices in the user's regions, by status, region, unit and deadline."""
    form, filters = _filters()
    pagination = paginate(notices_for(current_user, filters), PAGE_SIZE)
    return render_template("notices/index.html", pagination=pagination, form=form, today=today())


@bp.route("/export.csv")
def export():
    _form, filters = _filters()
    return csv_response(f"notices-{today():%Y-%m-%d}.csv", EXPORT_HEADER, export_notices(current_user, filters))


@bp.route("/figures")
def figures():
    """Notices served, and how they ended, by region and month: ready to cite in a briefing."""
    rows = notices_served_by_region_month(region_ids_for(current_user))
    totals = served_by_region(rows)
    charts = {}
    if totals:
        charts["region"] = svg_data_uri(
            bar_chart_svg(
                _("Foreseeability notices served by region"), list(totals), [Decimal(v) for v in totals.values()]
            )
        )
        series = served_by_month_series(rows)
        if any(len(points) > 1 for points in series.values()):
            charts["month"] = svg_data_uri(line_chart_svg(_("Notices served per month"), series))
    return render_template("notices/figures.html", rows=rows, totals=totals, charts=charts, outcome_keys=OUTCOME_KEYS)


@bp.route("/figures.csv")
def figures_csv():
    """The figures table as a download, for citing in a briefing."""
    rows = notices_served_by_region_month(region_ids_for(current_user))
    record(current_user, AuditAction.NOTICES_EXPORTED, None, figures=True, rows=len(rows))
    return csv_response(
        f"notice-figures-{today():%Y-%m-%d}.csv",
        ["month", "region", "served", *OUTCOME_KEYS],
        [[row.month, row.region, row.served, *(row.outcomes.get(k, 0) for k in OUTCOME_KEYS)] for row in rows],
    )


# --- one notice -----------------------------------------------------------------------------


def _detail_forms(notice: ForeseeabilityNotice) -> dict:
    on = today()
    return {
        "serve_form": ServeForm(today=on, prefix="serve", data={"served_on": on}),
        "escalate_form": EscalateForm(
            steps=next_escalation_steps(notice), today=on, prefix="escalate", data={"raised_on": on}
        ),
        "resolve_form": ResolveForm(prefix="resolve", data={"outcome": notice.outcome}),
    }


def _render_detail(notice: ForeseeabilityNotice, status: int = 200, **forms):
    context = {**_detail_forms(notice), **forms}
    return render_template(
        "notices/detail.html",
        notice=notice,
        today=today(),
        steps=EscalationStep.labels(),
        next_steps=next_escalation_steps(notice),
        **context,
    ), status


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = _notice_form(NewNoticeForm)
    if request.method == "GET" and len(form.region_ids) == 1:
        form.region_id.data = next(iter(form.region_ids))
    if form.validate_on_submit():
        with errors_on(form) as outcome:  # each refusal names its field; a conflict goes above the form
            notice = create_notice(current_user, _details(form))
            flash(
                _(
                    "Notice %(ref)s saved as a draft. Print the letter, then mark it as served.",
                    ref=notice.reference,
                ),
                "success",
            )
            return redirect(url_for("notices.detail", ref=notice.reference))
        return render_template("notices/form.html", form=form, notice=None), outcome.status_code
    return render_template("notices/form.html", form=form, notice=None), (400 if form.errors else 200)


@bp.route("/caseloads/")
def caseloads_page():
    """Each rep's open cases and notices in my regions, on one page."""
    return render_template("notices/caseloads.html", lines=caseloads(current_user))


@bp.route("/caseloads/<id:rep_id>", methods=["GET", "POST"])
def caseload(rep_id: int):
    """One rep's open cases and notices, and the hand-over of some or all to a colleague."""
    load = rep_caseload(current_user, rep_id)
    items = [(f"case:{c.reference}:{c.version}", f"{c.reference} {c.title}") for c in load.cases] + [
        (f"notice:{n.reference}:{n.version}", _("%(ref)s served to %(role)s", ref=n.reference, role=n.served_to_role))
        for n in load.notices
    ]
    form = HandOverForm(
        request.form if request.method == "POST" else None,
        reps=[(rep.id, rep.display_name) for rep in load.colleagues],
        items=items,
    )
    if request.method == "POST" and form.validate():
        cases, notices = form.chosen()
        with errors_on(form, "items") as outcome:
            moved_cases, moved_notices = hand_over(
                current_user, rep_id, form.to_rep_id.data, cases=cases, notices=notices
            )
            flash(
                _(
                    "Handed over %(cases)s and %(notices)s.",
                    cases=ngettext("%(num)d case", "%(num)d cases", len(moved_cases)),
                    notices=ngettext("%(num)d notice", "%(num)d notices", len(moved_notices)),
                ),
                "success",
            )
            return redirect(url_for("notices.caseload", rep_id=rep_id))
        status = 409 if outcome.conflict else 400
        return render_template("notices/caseload.html", load=load, form=form), status
    status = 400 if request.method == "POST" else 200
    return render_template("notices/caseload.html", load=load, form=form), status


@bp.route("/<ref>")
def detail(ref: str):
    return _render_detail(view_notice(current_user, ref))


@bp.route("/<ref>/edit", methods=["GET", "POST"])
def edit(ref: str):
    notice = get_notice_for(current_user, ref)
    form = _notice_form(obj=None if request.method == "POST" else notice)
    if request.method == "GET":
        form.unit_id.data = notice.unit_id or 0
        form.case_reference.data = notice.case.reference if notice.case else ""
        form.member_id.data = notice.member_id or 0
        form.named_member_ids.data = [m.id for m in notice.named_members]
        form.assigned_rep_id.data = notice.assigned_rep_id if notice.assigned_rep_id != current_user.id else 0
    if form.validate_on_submit():
        with errors_on(form) as outcome:  # each refusal names its field; a conflict goes above the form
            update_notice(current_user, notice, _details(form), expected_version=form.version.data)
            flash(_("Notice saved."), "success")
            return redirect(url_for("notices.detail", ref=notice.reference))
        if outcome.conflict:
            return render_template("notices/form.html", form=form, notice=notice), 409
    return render_template("notices/form.html", form=form, notice=notice), (400 if form.errors else 200)


@bp.route("/<ref>/serve", methods=["POST"])
def serve(ref: str):
    notice = get_notice_for(current_user, ref)
    form = ServeForm(today=today(), prefix="serve")
    if form.validate_on_submit():
        with errors_on(form, "served_on") as outcome:
            job = request_service(current_user, notice, form.served_on.data, language=form.language.data)
            return redirect(url_for("jobs.detail", job_id=job.id))
        return _render_detail(notice, outcome.status_code, serve_form=form)
    return _render_detail(notice, 400, serve_form=form)


@bp.route("/<ref>/letter.pdf")
def letter(ref: str):
    """The letter: rendered afresh while a draft, the frozen bytes once served."""
    notice = get_notice_for(current_user, ref)
    try:
        language = request.args.get("doc_lang", "en", type=str)  # a draft's words in Welsh: ?doc_lang=cy
        pdf = letter_for_download(current_user, notice, language if language in LETTER_LANGUAGES else "en")
    except PDFRenderError as error:
        abort(503, description=str(error))
    kind = "served" if notice.has_frozen_letter else "draft"
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{notice.reference}-{kind}.pdf"'
    if notice.letter_sha256:
        response.headers["X-Content-SHA256"] = notice.letter_sha256
    return response


@bp.route("/<ref>/response", methods=["GET", "POST"])
def respond(ref: str):
    notice = get_notice_for(current_user, ref)
    form = ResponseForm(today=today(), served_on=notice.served_on)
    if request.method == "GET":
        form.received_on.data = today()
        form.outcome.data = notice.outcome or ""
    if notice.status == NoticeStatus.DRAFT or notice.response_received_on is not None:
        message = (
            _("Serve the notice before recording a response.")
            if notice.status == NoticeStatus.DRAFT
            else _("A response has already been recorded for this notice.")
        )
        if request.method == "POST":
            flash(message, "danger")
            return _render_detail(notice, 409)
        flash(message, "info")
        return redirect(url_for("notices.detail", ref=notice.reference))
    if form.validate_on_submit():
        with errors_on(form, "received_on") as outcome:
            record_response(current_user, notice, form.received_on.data, form.summary.data, form.outcome.data or None)
            flash(_("Response recorded: the clock has stopped."), "success")
            return redirect(url_for("notices.detail", ref=notice.reference))
        return render_template("notices/respond.html", form=form, notice=notice), outcome.status_code
    return render_template("notices/respond.html", form=form, notice=notice), (400 if form.errors else 200)


@bp.route("/<ref>/escalate", methods=["POST"])
def escalate(ref: str):
    notice = get_notice_for(current_user, ref)
    form = EscalateForm(steps=next_escalation_steps(notice), today=today(), prefix="escalate")
    if form.validate_on_submit():
        with errors_on(form, "step") as outcome:
            escalation = escalate_notice(current_user, notice, form.step.data, form.raised_on.data, form.note.data)
            flash(
                _(
                    "Escalated to %(step)s; a reply is due by %(day)s.",
                    step=_(escalation.step_label),
                    day=format_date(escalation.due_on, "dd MMMM y"),
                ),
                "success",
            )
            return redirect(url_for("notices.detail", ref=notice.reference))
        return _render_detail(notice, outcome.status_code, escalate_form=form)
    return _render_detail(notice, 400, escalate_form=form)


@bp.route("/<ref>/resolve", methods=["POST"])
def resolve(ref: str):
    notice = get_notice_for(current_user, ref)
    form = ResolveForm(prefix="resolve")
    if form.validate_on_submit():
        with errors_on(form, "outcome") as outcome:
            resolve_notice(current_user, notice, form.outcome.data)
            flash(_("Notice resolved."), "success")
            return redirect(url_for("notices.detail", ref=notice.reference))
        return _render_detail(notice, outcome.status_code, resolve_form=form)
    return _render_detail(notice, 400, resolve_form=form)


# --- calendar -------------------------------------------------------------------------------


@bp.route("/calendar", methods=["GET", "POST"])
def calendar():
    """Make, replace or revoke the user's private calendar address."""
    form = ConfirmForm()
    feed_url = None
    if form.validate_on_submit():
        if request.form.get("action") == "revoke":
            revoked = revoke_calendar_token(current_user)
            flash(_("Your calendar address no longer works.") if revoked else _("You had no calendar address."), "info")
            return redirect(url_for("notices.calendar"))
        token = new_calendar_token(current_user)
        feed_url = url_for("notices.calendar_feed", token=token, _external=True)
    elif request.method == "POST":
        abort(400)
    return render_template(
        "notices/calendar.html", form=form, feed_url=feed_url, token=calendar_token_for(current_user)
    )


@bp.route("/calendar/<token>.ics")
def calendar_feed(token: str):
    """Public: the secret in the address is the credential. Unknown or revoked: 404."""
    user = user_for_calendar_token(token)
    if user is None:
        abort(404)
    deadlines = []
    for notice in calendar_notices(user):
        link = url_for("notices.detail", ref=notice.reference, _external=True)
        if notice.response_due_on:
            deadlines.append(
                ical.Deadline(
                    uid=f"{notice.reference}-response@napo-tracker",
                    on=notice.response_due_on,
                    summary=_("Response due: %(ref)s", ref=notice.reference),
                    description=(
                        _(
                            "Management's written response to foreseeability notice %(ref)s is due. Received.",
                            ref=notice.reference,
                        )
                        if notice.response_received_on
                        else _(
                            "Management's written response to foreseeability notice %(ref)s is due.",
                            ref=notice.reference,
                        )
                    ),
                    url=link,
                )
            )
        for step in notice.escalations:
            deadlines.append(
                ical.Deadline(
                    uid=f"{notice.reference}-{step.step}@napo-tracker",
                    on=step.due_on,
                    summary=_("%(step)s reply due: %(ref)s", step=_(step.step_label), ref=notice.reference),
                    description=_("Escalation of %(ref)s to %(step)s.", ref=notice.reference, step=_(step.step_label)),
                    url=link,
                )
            )
    for deadline in calendar_deadlines(user):
        reference = deadline.case.reference
        deadlines.append(
            ical.Deadline(
                uid=f"{reference}-deadline-{deadline.id}@napo-tracker",
                on=deadline.due_on,
                summary=_("%(name)s due: %(ref)s", name=deadline.deadline_type.name, ref=reference),
                description=_(
                    "Deadline on case %(ref)s: %(name)s (%(rule)s from %(day)s).",
                    ref=reference,
                    name=deadline.deadline_type.name,
                    rule=deadline.deadline_type.rule_text,
                    day=deadline.starts_on.strftime("%-d %B %Y"),
                ),
                url=url_for("cases.detail", ref=reference, _external=True),
            )
        )
    body = ical.calendar(deadlines, name=_("Napo deadlines: notices and cases"))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="notices.ics"'
    return response
