from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..audit.models import AuditAction, record
from ..extensions import db, limiter
from ..kernel.transaction import errors_on, keep_writes
from ..kernel.vocabulary import Role
from ..regions.services import regions_by_ids, regions_for_choices
from ..security import roles_required, safe_next
from . import bp
from .forms import ChangePasswordForm, LoginForm, UserCreateForm, UserEditForm
from .models import User
from .services import all_users, authenticate, change_password, create_user, update_user

GENERIC_LOGIN_ERROR = "That email address and password do not match an active account."


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            keep_writes()  # the failed attempt's audit entry stays, although the answer is 400
            flash(GENERIC_LOGIN_ERROR, "danger")
            return render_template("accounts/login.html", form=form), 400
        next_url = safe_next(request.args.get("next"))
        session.clear()  # a fresh session at login: nothing carried over from before
        login_user(user, remember=bool(form.remember.data))
        return redirect(next_url)
    return render_template("accounts/login.html", form=form), (400 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    record(current_user, AuditAction.LOGOUT, current_user._get_current_object())
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with errors_on(form, "current_password"):
            change_password(current_user, form.current_password.data, form.new_password.data)
            login_user(current_user._get_current_object())  # the new nonce keeps this session alive
            flash("Your password is changed. Other devices have been logged out.", "success")
            return redirect(url_for("main.index"))
    return render_template("accounts/password.html", form=form), (400 if form.errors else 200)


def _region_choices() -> list[tuple[int, str]]:
    return [(r.id, r.name) for r in regions_for_choices()]


@bp.route("/admin/users/")
@roles_required(Role.ADMIN)
def users():
    return render_template("accounts/users.html", users=all_users())


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def user_create():
    form = UserCreateForm(region_choices=_region_choices())
    if form.validate_on_submit():
        with errors_on(form, "email"):
            user = create_user(
                current_user,
                email=form.email.data,
                display_name=form.display_name.data,
                role=form.role.data,
                password=form.password.data,
                regions=regions_by_ids(form.regions.data),
            )
            flash(f"Account created for {user.email}.", "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form, user=None), (400 if form.errors else 200)


@bp.route("/admin/users/<id:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def user_edit(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserEditForm(region_choices=_region_choices(), obj=None if request.method == "POST" else user)
    if request.method == "GET":
        form.regions.data = [r.id for r in user.regions]
    if form.validate_on_submit():
        with errors_on(form, "role"):
            update_user(
                current_user,
                user,
                display_name=form.display_name.data,
                role=form.role.data,
                regions=regions_by_ids(form.regions.data),
                is_active=bool(form.is_active.data),
            )
            flash(f"Saved {user.email}.", "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form, user=user), (400 if form.errors else 200)
