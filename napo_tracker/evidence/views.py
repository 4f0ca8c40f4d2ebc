"""Evidence pages: list and export, entry and verification, CSV upload, dashboards and
metric definitions. Each view calls a service; the transaction boundary commits or rolls back."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..charts import bar_chart_svg, line_chart_svg, svg_data_uri
from ..csvexport import csv_response
from ..extensions import db
from ..forms import ConfirmForm
from ..kernel.transaction import errors_on
from ..kernel.vocabulary import Role
from ..main.home import Panel, home_panel
from ..regions.models import Region
from ..regions.scoping import scope_to_regions
from ..regions.services import units_in_scope
from ..security import roles_required
from . import bp
from .forms import EvidenceForm, FilterForm, MetricForm, UploadForm
from .importer import HEADER, import_csv
from .models import EvidenceItem
from .services import (
    EXPORT_HEADER,
    FEWER_THAN_THREE,
    PANEL_COUNT_CAP,
    EvidenceFilters,
    all_metrics,
    create_evidence,
    create_metric,
    dashboard_data,
    export_rows,
    filtered_items,
    format_number,
    get_evidence_for,
    link_references,
    may_see_exact,
    panel_counts,
    record_export,
    resolve_links,
    reveals_fewer_than_three,
    shown_value,
    threshold_level,
    update_evidence,
    verify_evidence,
)

PAGE_SIZE = 50


@bp.app_context_processor
def evidence_helpers():
    return {
        "shown_value": shown_value,
        "svg_data_uri": svg_data_uri,
        "format_number": format_number,
        "threshold_level": threshold_level,
        "reveals_fewer_than_three": reveals_fewer_than_three,
    }


def _visible_regions() -> list[Region]:
    stmt = scope_to_regions(select(Region).order_by(Region.name), Region.id, current_user)
    return list(db.session.scalars(stmt))


def _unit_choices() -> list[tuple[Any, str]]:
    """Every unit of the user's regions, by region and name, in one query (not one per region)."""
    return [(unit.id, f"{unit.name} ({unit.region.name})") for unit in units_in_scope(current_user)]


def _metric_choices(blank: str) -> dict[Any, str]:
    return dict([("", blank)] + [(m.id, m.label) for m in all_metrics()])


# ---------------------------------------------------------------------------------------
# The list and its export


def _filter_form() -> tuple[FilterForm, EvidenceFilters]:
    form = FilterForm(request.args)
    regions = _visible_regions()
    form.region.choices = {"": "Any region", "national": "National (no region)", **{str(r.id): r.name for r in regions}}
    form.unit.choices = dict([("", "Any unit")] + _unit_choices())
    form.metric.choices = _metric_choices("Any metric")
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
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    pagination = db.paginate(filtered_items(current_user, filters), page=page, per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "evidence/index.html", form=form, pagination=pagination, may_see_exact=may_see_exact(current_user)
    ), status


@bp.route("/export.csv")
def export():
    form, filters = _filter_form()
    if form.errors:
        abort(400)
    rows = list(export_rows(current_user, filters))
    record_export(current_user, filters, len(rows))
    return csv_response("evidence.csv", EXPORT_HEADER, rows)


# ---------------------------------------------------------------------------------------
# One item: entry, detail, edit, verification


def _evidence_form(item: EvidenceItem | None = None) -> EvidenceForm:
    form = EvidenceForm(obj=item) if item is not None and request.method == "GET" else EvidenceForm()
    if item is not None and request.method == "GET":
        form.value.data = "" if item.value is None else f"{item.value.normalize():f}"
        form.version.process_data(item.version)
        for name, reference in link_references(item).items():
            form[name].data = reference
    regions = _visible_regions()
    national: list[tuple[Any, str]] = [("", "National (the whole service)")] if current_user.sees_all_regions else []
    form.region_id.choices = dict(national + [(r.id, r.name) for r in regions])
    form.unit_id.choices = dict([("", "No particular unit")] + _unit_choices())
    form.metric_id.choices = _metric_choices("None: a statement only")
    return form


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = _evidence_form()
    if form.validate_on_submit():
        with errors_on(form):
            links = resolve_links(current_user, **form.link_references())
            item = create_evidence(current_user, **form.item_fields(), **links)
            flash(f"Evidence {item.reference} saved.", "success")
            return redirect(url_for("evidence.detail", reference=item.reference))
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
            flash(f"Evidence {item.reference} saved.", "success")
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
    flash(f"{item.reference} is marked as verified.", "success")
    return redirect(url_for("evidence.detail", reference=item.reference))


# ---------------------------------------------------------------------------------------
# CSV upload: the same validator as `flask evidence import`


@bp.route("/import", methods=["GET", "POST"])
def upload():
    form = UploadForm()
    report = None
    if form.validate_on_submit():
        upload_file = form.file.data
        # All or nothing: the importer has already rolled back a file it did not take whole.
        report = import_csv(
            current_user, upload_file.stream, filename=upload_file.filename or "", dry_run=bool(form.dry_run.data)
        )
        if report.is_ok and not report.is_dry_run and report.added:
            flash(report.summary(), "success")
            return redirect(url_for("evidence.index"))
    status = 400 if form.errors or (report is not None and not report.is_ok) else 200
    return render_template("evidence/upload.html", form=form, report=report, header=",".join(HEADER)), status


# ---------------------------------------------------------------------------------------
# Dashboards: /dashboard (national) and /dashboard/<region_id>


def _figure_charts(data: dict[str, Any]) -> list[dict[str, Any]]:
    charts = []
    for figure in data["figures"]:
        if not figure.rows:
            continue
        labels = [row["region"] for row in figure.rows]
        values = [row["value"] for row in figure.rows]
        svg = bar_chart_svg(
            figure.metric.label, labels, values, unit=figure.metric.unit, thresholds=figure.metric.thresholds
        )
        for row in figure.rows:
            row["shown"] = FEWER_THAN_THREE if row["is_suppressed"] else format_number(row["value"], figure.metric.unit)
        charts.append({"metric": figure.metric, "rows": figure.rows, "svg": svg})
    return charts


def dashboard():
    """The national picture: latest month per region for the headline metrics, and a trend."""
    return _render_dashboard(None)


def region_dashboard(region_id: int):
    region = db.session.get(Region, region_id)
    if region is None:
        abort(404)
    return _render_dashboard(region)


def _render_dashboard(region: Region | None):
    data = dashboard_data(current_user, region)
    trend_svg = None
    if data["trend_metric"] is not None and any(data["trend"].values()):
        trend_svg = line_chart_svg(
            f"{data['trend_metric'].label} by month", data["trend"], unit=data["trend_metric"].unit
        )
    regions = db.session.scalars(select(Region).order_by(Region.name)).all()
    return render_template(
        "evidence/dashboard.html",
        region=region,
        charts=_figure_charts(data),
        trend=data["trend"],
        trend_metric=data["trend_metric"],
        trend_svg=trend_svg,
        regions=regions,
    )


# Dashboards live at the top level (/dashboard), outside the blueprint's /evidence prefix.
bp.record_once(lambda state: state.app.add_url_rule("/dashboard", "evidence.dashboard", dashboard))
bp.record_once(
    lambda state: state.app.add_url_rule("/dashboard/<id:region_id>", "evidence.region_dashboard", region_dashboard)
)


# ---------------------------------------------------------------------------------------
# Metric definitions


@bp.route("/metrics", methods=["GET", "POST"])
def metrics():
    form = MetricForm()
    if request.method == "POST":
        if not current_user.is_admin:
            abort(403)
        if form.validate_on_submit():
            with errors_on(form):
                metric = create_metric(
                    current_user,
                    code=form.code.data or "",
                    label=form.label.data or "",
                    unit=form.unit.data,
                    description=form.description.data or "",
                    is_higher_worse=form.is_higher_worse.data,
                    is_individual=form.is_individual.data,
                    is_headline=form.is_headline.data,
                    **form.thresholds(),
                )
                flash(f"Metric {metric.code} added.", "success")
                return redirect(url_for("evidence.metrics"))
    return render_template("evidence/metrics.html", metrics=all_metrics(), form=form), (400 if form.errors else 200)


# ---------------------------------------------------------------------------------------
# Home page panel


@home_panel
def evidence_panel(user):
    if not getattr(user, "is_authenticated", False):
        return None
    total, unverified, metrics_count = panel_counts(user)
    return Panel(
        "Workload evidence",
        "evidence/_panel.html",
        {
            "total": total,
            "unverified": unverified,
            "metrics": metrics_count,
            "cap": PANEL_COUNT_CAP,
            "may_verify": user.sees_all_regions,
        },
        link_endpoint="evidence.dashboard",
        link_label="Open the dashboard",
    )
