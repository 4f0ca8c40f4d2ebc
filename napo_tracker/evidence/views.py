"""Evidence pages: list and export, entry and verification, CSV upload, dashboards and
metric definitions. Each view calls a service; the transaction boundary commits or rolls back."""

from __future__ import annotations

import io
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from wtforms import SelectChoice

from ..charts import bar_chart_png, bar_chart_svg, line_chart_svg, svg_data_uri, with_title
from ..csvexport import csv_response, xlsx_bytes, xlsx_response
from ..extensions import db
from ..forms import ConfirmForm, select_choices
from ..kernel.clock import today
from ..kernel.labels import N_
from ..kernel.transaction import errors_on
from ..kernel.vocabulary import Role
from ..main.home import Panel, home_panel
from ..paging import paginate
from ..pdf import PDFRenderError, render_pdf
from ..regions.models import Region
from ..regions.scoping import can_access_region, scope_to_regions
from ..regions.services import units_in_scope
from ..security import roles_required
from . import bp
from .forms import (
    DashboardForm,
    EvidenceForm,
    FilterForm,
    MetricForm,
    NewEvidenceForm,
    NewMetricForm,
    OverrideForm,
    UploadForm,
)
from .importer import HEADER, ImportOptions, import_csv
from .jobs import ask_for_import, is_large
from .models import EvidenceItem
from .services import (
    EXPORT_HEADER,
    PANEL_COUNT_CAP,
    EvidenceFilters,
    all_metrics,
    allow_small_number,
    batch_items,
    citation_text,
    create_evidence,
    create_metric,
    disclosure,
    export_evidence,
    filtered_items,
    format_number,
    get_batch_for,
    get_evidence_for,
    get_metric_or_404,
    import_batches,
    is_withheld,
    link_references,
    may_see_exact,
    panel_counts,
    plain_decimal,
    record_pack,
    resolve_links,
    revert_batch,
    shown_value,
    threshold_level,
    update_evidence,
    update_metric,
    verify_batch,
    verify_evidence,
    withdraw_small_number_override,
)
from .statistics import DEFAULT_METRIC, TABLE_HEADER, DashboardView, dashboard_view, figures_at_a_glance

PAGE_SIZE = 50


@bp.app_context_processor
def evidence_helpers():
    return {
        "shown_value": shown_value,
        "svg_data_uri": svg_data_uri,
        "format_number": format_number,
        "threshold_level": threshold_level,
        "is_withheld": is_withheld,
        "disclosure": disclosure,
        "citation_text": citation_text,
    }


def _visible_regions() -> list[Region]:
    stmt = scope_to_regions(select(Region).order_by(Region.name), Region.id, current_user)
    return list(db.session.scalars(stmt))


def _unit_choices() -> list[tuple[Any, str]]:
    """Every unit of the user's regions, by region and name, in one query (not one per region)."""
    return [(unit.id, f"{unit.name} ({unit.region.name})") for unit in units_in_scope(current_user)]


def _metric_choices(blank: str) -> list[SelectChoice]:
    return select_choices([("", blank)] + [(m.id, m.label) for m in all_metrics()])


# ---------------------------------------------------------------------------------------
# The list and its export


def _filter_form() -> tuple[FilterForm, EvidenceFilters]:
    form = FilterForm(request.args)
    regions = _visible_regions()
    form.region.choices = select_choices(
        [("", N_("Any region")), ("national", N_("National (no region)")), *((str(r.id), r.name) for r in regions)]
    )
    form.unit.choices = select_choices([("", N_("Any unit")), *_unit_choices()])
    form.metric.choices = _metric_choices(N_("Any metric"))
    filters = EvidenceFilters()
    if request.args and not form.validate():
        return form, filters
    region = form.region.data or ""
    filters.national = region == "national"
    filters.region_id = int(region) if region.isdigit() else None
    filters.unit_id = form.unit.data
    filters.metric_id = form.metric.data
    filters.source_type = form.source.data or None
    filters.is_verified = {"yes": True, "no": False}.get(form.verified.data or "")
    filters.date_from, filters.date_to = form.date_from.data, form.date_to.data
    return form, filters


@bp.route("/")
def index():
    form, filters = _filter_form()
    status = 400 if form.errors else 200
    pagination = paginate(filtered_items(current_user, filters), PAGE_SIZE)
    return render_template(
        "evidence/index.html", form=form, pagination=pagination, may_see_exact=may_see_exact(current_user)
    ), status


@bp.route("/export.csv")
def export():
    form, filters = _filter_form()
    if form.errors:
        abort(400)
    return csv_response("evidence.csv", EXPORT_HEADER, export_evidence(current_user, filters))


# ---------------------------------------------------------------------------------------
# One item: entry, detail, edit, verification


def _evidence_form(item: EvidenceItem | None = None) -> EvidenceForm:
    """The form to edit ``item``, or (none) to record a new one."""
    if item is None:
        form: EvidenceForm = NewEvidenceForm()
    else:
        form = EvidenceForm(obj=item) if request.method == "GET" else EvidenceForm()
    if item is not None and request.method == "GET":
        form.value.data = "" if item.value is None else plain_decimal(item.value, item.value_places)
        form.version.process_data(item.version)
        for name, reference in link_references(item).items():
            form[name].data = reference
    regions = _visible_regions()
    national: list[tuple[Any, str]] = (
        [("", N_("National (the whole service)"))] if current_user.sees_all_regions else []
    )
    form.region_id.choices = select_choices(national + [(r.id, r.name) for r in regions])
    form.unit_id.choices = select_choices([("", N_("No particular unit")), *_unit_choices()])
    form.metric_id.choices = _metric_choices(N_("None: a statement only"))
    return form


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = _evidence_form()
    if form.validate_on_submit():
        with errors_on(form) as outcome:
            links = resolve_links(current_user, **form.link_references())
            item = create_evidence(current_user, **form.item_fields(), **links)
            flash(_("Evidence %(reference)s saved.", reference=item.reference), "success")
            return redirect(url_for("evidence.detail", reference=item.reference))
        return render_template("evidence/form.html", form=form, item=None), outcome.status_code
    return render_template("evidence/form.html", form=form, item=None), (400 if form.errors else 200)


@bp.route("/<reference>")
def detail(reference: str):
    item = get_evidence_for(current_user, reference)
    return render_template(
        "evidence/detail.html",
        item=item,
        verify_form=ConfirmForm(),
        links=link_references(item),
        may_see_exact=may_see_exact(current_user),
    )


@bp.route("/<reference>/edit", methods=["GET", "POST"])
@roles_required(Role.OFFICIAL, Role.ADMIN)
def edit(reference: str):
    item = get_evidence_for(current_user, reference)
    form = _evidence_form(item)
    if form.validate_on_submit():
        with errors_on(form) as outcome:
            links = resolve_links(current_user, **form.link_references())
            update_evidence(current_user, item, form.version.data, **form.item_fields(), **links)
            flash(_("Evidence %(reference)s saved.", reference=item.reference), "success")
            return redirect(url_for("evidence.detail", reference=item.reference))
        if outcome.conflict:
            return render_template("evidence/form.html", form=form, item=item), 409
    return render_template("evidence/form.html", form=form, item=item), (400 if form.errors else 200)


@bp.route("/<reference>/verify", methods=["POST"])
@roles_required(Role.OFFICIAL, Role.ADMIN)
def verify(reference: str):
    item = get_evidence_for(current_user, reference)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    verify_evidence(current_user, item)
    flash(_("%(reference)s is marked as verified.", reference=item.reference), "success")
    return redirect(url_for("evidence.detail", reference=item.reference))


# ---------------------------------------------------------------------------------------
# Upload: the same validator as `flask evidence import`, for CSV and XLSX, as one batch


@bp.route("/import", methods=["GET", "POST"])
def upload():
    form = UploadForm()
    report = None
    if form.validate_on_submit():
        upload_file = form.file.data
        options = ImportOptions(
            visibility=form.visibility.data or "internal",
            is_verified=bool(form.is_verified.data),
            source_type=form.source_type.data or None,
            source_publisher=form.source_publisher.data or "",
        )
        data = upload_file.stream.read()
        with errors_on(form, "visibility"):
            if is_large(data):  # read on a worker; its page shows how far it has got
                job = ask_for_import(
                    current_user,
                    data,
                    filename=upload_file.filename or "",
                    options=options,
                    dry_run=bool(form.dry_run.data),
                )
                return redirect(url_for("jobs.detail", job_id=job.id))
            # All or nothing: the importer has already rolled back a file it did not take whole.
            report = import_csv(
                current_user,
                io.BytesIO(data),
                filename=upload_file.filename or "",
                dry_run=bool(form.dry_run.data),
                options=options,
            )
            if report.is_ok and not report.is_dry_run and report.added:
                flash(report.summary(), "success")
                return redirect(url_for("evidence.batch", reference=report.batch_reference))
    status = 400 if form.errors or (report is not None and not report.is_ok) else 200
    return render_template("evidence/upload.html", form=form, report=report, header=",".join(HEADER)), status


@bp.route("/imports")
@roles_required(Role.OFFICIAL, Role.ADMIN)
def batches():
    return render_template("evidence/batches.html", batches=import_batches())


@bp.route("/imports/<reference>")
@roles_required(Role.OFFICIAL, Role.ADMIN)
def batch(reference: str):
    found = get_batch_for(current_user, reference)
    items = paginate(batch_items(found), PAGE_SIZE)
    return render_template("evidence/batch.html", batch=found, items=items, confirm=ConfirmForm())


@bp.route("/imports/<reference>/verify", methods=["POST"])
@roles_required(Role.OFFICIAL, Role.ADMIN)
def batch_verify(reference: str):
    found = get_batch_for(current_user, reference)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    with errors_on(form) as outcome:
        count = verify_batch(current_user, found)
        flash(
            ngettext(
                "%(reference)s: %(count)s item marked verified.",
                "%(reference)s: %(count)s items marked verified.",
                count,
                reference=found.reference,
                count=f"{count:,}",
            ),
            "success",
        )
    if outcome.error is not None:
        flash(outcome.error.message, "danger")
    return redirect(url_for("evidence.batch", reference=found.reference))


@bp.route("/imports/<reference>/revert", methods=["POST"])
@roles_required(Role.OFFICIAL, Role.ADMIN)
def batch_revert(reference: str):
    found = get_batch_for(current_user, reference)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    with errors_on(form) as outcome:
        count = revert_batch(current_user, found)
        flash(
            ngettext(
                "%(reference)s reverted: %(count)s item removed.",
                "%(reference)s reverted: %(count)s items removed.",
                count,
                reference=found.reference,
                count=f"{count:,}",
            ),
            "success",
        )
        return redirect(url_for("evidence.batch", reference=found.reference))
    message = outcome.error.message if outcome.error is not None else _("The import could not be reverted.")
    items = paginate(batch_items(found), PAGE_SIZE)
    return render_template(
        "evidence/batch.html", batch=found, items=items, confirm=ConfirmForm(), refusal=message
    ), outcome.status_code


# ---------------------------------------------------------------------------------------
# Small numbers: an official's audited decision that one may be cited


@bp.route("/<reference>/allow", methods=["GET", "POST"])
@roles_required(Role.OFFICIAL, Role.ADMIN)
def allow(reference: str):
    item = get_evidence_for(current_user, reference)
    form = OverrideForm()
    if form.validate_on_submit():
        with errors_on(form, "reason"):
            allow_small_number(current_user, item, form.reason.data or "")
            flash(
                _("%(reference)s may now be cited; the reason is in the audit log.", reference=item.reference),
                "success",
            )
            return redirect(url_for("evidence.detail", reference=item.reference))
    return render_template("evidence/allow.html", item=item, form=form, disclosure=disclosure(item)), (
        400 if form.errors else 200
    )


@bp.route("/<reference>/allow/withdraw", methods=["POST"])
@roles_required(Role.OFFICIAL, Role.ADMIN)
def allow_withdraw(reference: str):
    item = get_evidence_for(current_user, reference)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    withdraw_small_number_override(current_user, item)
    flash(_("%(reference)s is withheld again as the rule says.", reference=item.reference), "success")
    return redirect(url_for("evidence.detail", reference=item.reference))


# ---------------------------------------------------------------------------------------
# Dashboards: /dashboard (any level) and /dashboard/<region_id> (its units), and the
# national figures pack of whatever view is shown


def _dashboard_request(region: Region | None) -> tuple[DashboardForm, DashboardView | None]:
    form = DashboardForm(request.args)
    metrics = all_metrics()
    form.metric.choices = [(m.code, m.label) for m in metrics]
    if not form.validate():
        return form, None
    default = next((m for m in metrics if m.code == DEFAULT_METRIC), metrics[0] if metrics else None)
    metric = next((m for m in metrics if m.code == form.metric.data), default)
    if metric is None:
        return form, None
    level = "unit" if region is not None else (form.level.data or "region")
    if not metric.has_level(level):
        form.level.errors = [f"{metric.label} is kept at {', '.join(metric.level_values)} level only."]
        return form, None
    form.metric.data, form.level.data = metric.code, level
    view = dashboard_view(
        current_user,
        metric,
        on=form.on.data or today(),
        level=level,
        region=region,
        grade=form.grade.data or None,
        since=form.since.data,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )
    return form, view


def _region_or_404(region_id: int | None) -> Region | None:
    if region_id is None:
        return None
    region = db.session.get(Region, region_id)
    if region is None or not can_access_region(current_user, region.id):
        abort(404)
    return region


def _bars(view: DashboardView) -> str | None:
    labels, values, places = view.bar_inputs()
    if not labels:
        return None
    metric = view.metric
    return bar_chart_svg(view.title, labels, values, unit=metric.unit, thresholds=metric.thresholds, places=places)


def dashboard():
    """Any metric at any level, on any date, with the change since and a time series."""
    return _render_dashboard(None)


def region_dashboard(region_id: int):
    return _render_dashboard(_region_or_404(region_id))


def _render_dashboard(region: Region | None):
    form, view = _dashboard_request(region)
    line = None
    if view is not None and view.series.lines:
        line = line_chart_svg(
            _("%(metric)s over time", metric=view.metric.label), view.series.lines, unit=view.metric.unit
        )
    return render_template(
        "evidence/dashboard.html",
        region=region,
        form=form,
        view=view,
        bars_svg=_bars(view) if view is not None else None,
        line_svg=line,
        regions=_visible_regions(),
        pack_args={k: v for k, v in request.args.items() if k in form.data}
        | ({"region_id": region.id} if region is not None else {}),
    ), (400 if form.errors else 200)


def _pack_view(region_id: int | None, kind: str) -> DashboardView:
    form, view = _dashboard_request(_region_or_404(region_id))
    if view is None:
        abort(400, "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()))
    record_pack(current_user, view.metric.code, kind)
    return view


def _download(body: str | bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def pack_csv(region_id: int | None = None):
    view = _pack_view(region_id, "csv")
    return csv_response(f"{view.metric.code}-{view.snapshot.on}.csv", TABLE_HEADER, view.table_rows())


def pack_xlsx(region_id: int | None = None):
    view = _pack_view(region_id, "xlsx")
    places = TABLE_HEADER.index("decimal_places")
    body = xlsx_bytes(view.metric.code, TABLE_HEADER, view.table_rows(), places_column=places)
    return xlsx_response(f"{view.metric.code}-{view.snapshot.on}.xlsx", body)


def pack_svg(region_id: int | None = None):
    view = _pack_view(region_id, "svg")
    svg = _bars(view) or bar_chart_svg(view.title, [], [], unit=view.metric.unit)
    return _download(svg, "image/svg+xml", f"{view.metric.code}-{view.snapshot.on}.svg")


def pack_png(region_id: int | None = None):
    view = _pack_view(region_id, "png")
    labels, values, places = view.bar_inputs()
    metric = view.metric
    png = bar_chart_png(view.title, labels, values, unit=metric.unit, thresholds=metric.thresholds, places=places)
    return _download(png, "image/png", f"{view.metric.code}-{view.snapshot.on}.png")


def pack_pdf(region_id: int | None = None):
    """A one-page "figures at a glance" with its sources, ready for a press release."""
    view = _pack_view(region_id, "pdf")
    svg = _bars(view)
    try:
        pdf = render_pdf(
            "evidence/pdf/figures.html",
            {"doc": figures_at_a_glance(view), "chart": Markup(with_title(svg, view.title)) if svg else None},
        )
    except PDFRenderError as error:
        abort(503, str(error))
    return _download(pdf, "application/pdf", f"{view.metric.code}-{view.snapshot.on}.pdf")


PACK_VIEWS = {"csv": pack_csv, "xlsx": pack_xlsx, "svg": pack_svg, "png": pack_png, "pdf": pack_pdf}


def _add_dashboard_rules(state) -> None:
    # Dashboards live at the top level (/dashboard), outside the blueprint's /evidence prefix.
    app = state.app
    app.add_url_rule("/dashboard", "evidence.dashboard", dashboard)
    app.add_url_rule("/dashboard/<id:region_id>", "evidence.region_dashboard", region_dashboard)
    for suffix, view in PACK_VIEWS.items():
        app.add_url_rule(f"/dashboard/figures.{suffix}", f"evidence.pack_{suffix}", view)
        app.add_url_rule(f"/dashboard/<id:region_id>/figures.{suffix}", f"evidence.region_pack_{suffix}", view)


bp.record_once(_add_dashboard_rules)


# ---------------------------------------------------------------------------------------
# Metric definitions: everyone reads them, admins add and edit them


def _metric_fields(form: MetricForm) -> dict[str, Any]:
    return {
        "code": form.code.data or "",
        "label": form.label.data or "",
        "unit": form.unit.data,
        "description": form.description.data or "",
        "is_higher_worse": form.is_higher_worse.data,
        "is_individual": form.is_individual.data,
        "is_headline": form.is_headline.data,
        "is_additive": form.is_additive.data,
        "levels": form.levels.data or None,  # none ticked: every level
        **form.thresholds(),
    }


@bp.route("/metrics", methods=["GET", "POST"])
def metrics():
    form = NewMetricForm()
    if request.method == "POST":
        if not current_user.is_admin:
            abort(403)
        if form.validate_on_submit():
            with errors_on(form):
                metric = create_metric(current_user, **_metric_fields(form))
                flash(_("Metric %(code)s added.", code=metric.code), "success")
                return redirect(url_for("evidence.metrics"))
    return render_template("evidence/metrics.html", metrics=all_metrics(), form=form), (400 if form.errors else 200)


@bp.route("/metrics/<code>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def metric_edit(code: str):
    metric = get_metric_or_404(code)
    form = MetricForm(obj=metric if request.method == "GET" else None)
    if request.method == "GET":
        form.levels.data = metric.level_values
        for name in ("warn_at", "alert_at", "severe_at"):
            form[name].data = plain_decimal(getattr(metric, name))
    if form.validate_on_submit():
        with errors_on(form):
            update_metric(current_user, metric, **_metric_fields(form))
            flash(_("Metric %(code)s saved.", code=metric.code), "success")
            return redirect(url_for("evidence.metrics"))
    return render_template("evidence/metric_edit.html", metric=metric, form=form), (400 if form.errors else 200)


# ---------------------------------------------------------------------------------------
# Home page panel


@home_panel
def evidence_panel(user):
    if not getattr(user, "is_authenticated", False):
        return None
    total, unverified, metrics_count = panel_counts(user)
    return Panel(
        _("Workload evidence"),
        "evidence/_panel.html",
        {
            "total": total,
            "unverified": unverified,
            "metrics": metrics_count,
            "cap": PANEL_COUNT_CAP,
            "may_verify": user.sees_all_regions,
        },
        link_endpoint="evidence.dashboard",
        link_label=_("Open the dashboard"),
    )
