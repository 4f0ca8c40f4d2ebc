from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..security import roles_required
from . import bp
from .forms import RegionForm, UnitForm
from .models import Region, Unit
from .scoping import region_ids_for, scope_to_regions
from .services import RegionError, create_region, create_unit, rename_region, update_unit


@bp.route("/")
def index():
    """Regions and their units; a rep sees only their own regions."""
    stmt = scope_to_regions(select(Region).order_by(Region.name), Region.id, current_user)
    return render_template("regions/list.html", regions=db.session.scalars(stmt).all(), form=RegionForm())


@bp.route("/new", methods=["POST"])
@roles_required("admin")
def create():
    form = RegionForm()
    if form.validate_on_submit():
        try:
            region = create_region(current_user, form.name.data)
        except RegionError as error:
            db.session.rollback()
            form.name.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Region {region.name} added.", "success")
            return redirect(url_for("regions.detail", region_id=region.id))
    regions = db.session.scalars(select(Region).order_by(Region.name)).all()
    return render_template("regions/list.html", regions=regions, form=form), 400


def _region_for_user(region_id: int) -> Region:
    ids = region_ids_for(current_user)
    region = db.session.get(Region, region_id)
    if region is None or (ids is not None and region.id not in ids):
        abort(404)
    return region


@bp.route("/<int:region_id>", methods=["GET", "POST"])
def detail(region_id: int):
    region = _region_for_user(region_id)
    region_form = RegionForm(obj=region, prefix="region")
    unit_form = UnitForm(prefix="unit")
    status = 200
    if request.method == "POST":
        if not current_user.is_admin:
            abort(403)
        form = region_form if "region-submit" in request.form else unit_form
        if form.validate_on_submit():
            try:
                if form is region_form:
                    rename_region(current_user, region, form.name.data)
                else:
                    create_unit(current_user, region, form.name.data, form.kind.data)
            except RegionError as error:
                db.session.rollback()
                form.name.errors.append(str(error))
            else:
                db.session.commit()
                flash("Saved.", "success")
                return redirect(url_for("regions.detail", region_id=region.id))
        status = 400
    return render_template("regions/detail.html", region=region, region_form=region_form, unit_form=unit_form), status


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@roles_required("admin")
def unit_edit(unit_id: int):
    unit = db.session.get(Unit, unit_id) or abort(404)
    form = UnitForm(obj=unit)
    if form.validate_on_submit():
        try:
            update_unit(current_user, unit, form.name.data, form.kind.data)
        except RegionError as error:
            db.session.rollback()
            form.name.errors.append(str(error))
        else:
            db.session.commit()
            flash("Unit saved.", "success")
            return redirect(url_for("regions.detail", region_id=unit.region_id))
    return render_template("regions/unit_form.html", form=form, unit=unit), (400 if form.errors else 200)
