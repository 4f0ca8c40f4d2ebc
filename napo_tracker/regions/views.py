from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..kernel.transaction import errors_on
from ..kernel.vocabulary import Role
from ..security import roles_required
from . import bp
from .forms import NewRegionForm, NewUnitForm, RegionForm, UnitForm
from .models import Region, Unit
from .scoping import get_for_user_or_404
from .services import create_region, create_unit, regions_for_choices, regions_in_scope, rename_region, update_unit


@bp.route("/")
def index():
    """Regions and their units; a rep sees only their own regions."""
    return render_template("regions/list.html", regions=regions_in_scope(current_user), form=NewRegionForm())


@bp.route("/new", methods=["POST"])
@roles_required(Role.ADMIN)
def create():
    form = NewRegionForm()
    if form.validate_on_submit():
        with errors_on(form, "name"):
            region = create_region(current_user, form.name.data)
            flash(_("Region %(name)s added.", name=region.name), "success")
            return redirect(url_for("regions.detail", region_id=region.id))
    return render_template("regions/list.html", regions=regions_for_choices(), form=form), 400


@bp.route("/<id:region_id>", methods=["GET", "POST"])
def detail(region_id: int):
    region = get_for_user_or_404(current_user, Region, Region.id == region_id, region_column=Region.id)
    region_form = RegionForm(obj=region, prefix="region")
    unit_form = NewUnitForm(prefix="unit")
    status = 200
    if request.method == "POST":
        if not current_user.is_admin:
            abort(403)
        form = region_form if "region-submit" in request.form else unit_form
        if form.validate_on_submit():
            with errors_on(form, "name"):
                if form is region_form:
                    rename_region(current_user, region, form.name.data, form.branch_contact_email.data)
                else:
                    create_unit(current_user, region, form.name.data, form.kind.data)
                flash(_("Saved."), "success")
                return redirect(url_for("regions.detail", region_id=region.id))
        status = 400
    return render_template("regions/detail.html", region=region, region_form=region_form, unit_form=unit_form), status


@bp.route("/units/<id:unit_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def unit_edit(unit_id: int):
    unit = db.session.get(Unit, unit_id) or abort(404)
    form = UnitForm(obj=unit)
    if form.validate_on_submit():
        with errors_on(form, "name"):
            update_unit(current_user, unit, form.name.data, form.kind.data)
            flash(_("Unit saved."), "success")
            return redirect(url_for("regions.detail", region_id=unit.region_id))
    return render_template("regions/unit_form.html", form=form, unit=unit), (400 if form.errors else 200)
