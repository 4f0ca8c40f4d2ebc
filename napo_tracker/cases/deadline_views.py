"""Deadline pages: the types an admin defines, and the deadlines set on a case.

Each case is loaded through ``get_case_for`` (another region's case is a 404); a deadline is
looked up within its case only. Deadline types are admins' alone (403 for everyone else).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from ..forms import ConfirmForm
from ..kernel import clock
from ..kernel.transaction import errors_on
from ..kernel.vocabulary import Role
from ..main.home import Panel
from ..security import roles_required
from . import bp
from .deadlines import (
    TypeDetails,
    create_deadline_type,
    deadline_types,
    deadlines_of,
    get_deadline,
    get_deadline_type,
    meet_deadline,
    set_deadline,
    update_deadline_type,
)
from .forms import DeadlineForm, DeadlineTypeForm, NewDeadlineTypeForm
from .models import Case
from .sections import case_page_section
from .services import get_case_for


def _details(form: DeadlineTypeForm, *, is_active: bool = True) -> TypeDetails:
    return TypeDetails(
        name=form.name.data or "",
        rule=form.rule.data or "",
        amount=form.amount.data,
        remind_days_before=form.remind_days_before.data,
        is_active=is_active,
    )


@bp.route("/deadline-types", methods=["GET", "POST"], endpoint="deadline_types")
@roles_required(Role.ADMIN)
def deadline_types_page():
    if request.method == "POST":
        form = NewDeadlineTypeForm()
    else:
        form = NewDeadlineTypeForm(
            formdata=None, data={"remind_days_before": current_app.config["CASE_DEADLINE_REMIND_DAYS"]}
        )
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            with errors_on(form, "amount"):
                made = create_deadline_type(current_user, _details(form))
                flash(_("Deadline type “%(name)s” saved: %(rule)s.", name=made.name, rule=made.rule_text), "success")
                return redirect(url_for("cases.deadline_types"))
    return render_template("cases/deadline_types.html", form=form, types=deadline_types()), status


@bp.route("/deadline-types/<id:type_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def deadline_type_edit(type_id: int):
    deadline_type = get_deadline_type(type_id)
    if request.method == "GET":
        form = DeadlineTypeForm(formdata=None, obj=deadline_type)
        return render_template("cases/deadline_type_edit.html", form=form, deadline_type=deadline_type)
    form = DeadlineTypeForm()
    if form.validate():
        with errors_on(form, "amount"):
            update_deadline_type(current_user, deadline_type, _details(form, is_active=bool(form.is_active.data)))
            flash(_("Deadline type “%(name)s” saved.", name=deadline_type.name), "success")
            return redirect(url_for("cases.deadline_types"))
    return render_template("cases/deadline_type_edit.html", form=form, deadline_type=deadline_type), 400


@bp.route("/<ref>/deadlines/new", methods=["GET", "POST"])
def deadline_new(ref: str):
    case = get_case_for(current_user, ref)
    types = deadline_types(active_only=True)
    if request.method == "GET":
        form = DeadlineForm(formdata=None, types=types, data={"starts_on": clock.today()})
        return render_template("cases/deadline_new.html", form=form, case=case, types=types)
    form = DeadlineForm(types=types)
    if form.validate():
        with errors_on(form, "starts_on"):
            deadline = set_deadline(current_user, case, form.deadline_type_id.data, form.starts_on.data)
            flash(_("Deadline set: due %(day)s.", day=format_date(deadline.due_on, "EEEE d MMMM y")), "success")
            return redirect(url_for("cases.detail", ref=case.reference) + "#deadlines")
    return render_template("cases/deadline_new.html", form=form, case=case, types=types), 400


@bp.route("/<ref>/deadlines/<id:deadline_id>/met", methods=["POST"])
def deadline_met(ref: str, deadline_id: int):
    case = get_case_for(current_user, ref)
    deadline = get_deadline(case, deadline_id)
    form = ConfirmForm()
    if form.validate():
        meet_deadline(current_user, case, deadline)
        flash(_("%(name)s: marked as met.", name=deadline.deadline_type.name), "success")
    return redirect(url_for("cases.detail", ref=case.reference) + "#deadlines")


@case_page_section
def deadlines_section(user: Any, case: Case) -> Panel:
    """A case's page lists its deadlines, open ones first, with overdue ones flagged."""
    return Panel(
        _("Deadlines"),
        "cases/_deadlines_section.html",
        {
            "anchor": "deadlines",
            "deadlines": deadlines_of(case),
            "today": clock.today(),
            "form": ConfirmForm(formdata=None),
        },
    )
