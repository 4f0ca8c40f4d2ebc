from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..audit.models import AuditAction, record
from ..extensions import db, limiter
from ..forms import ConfirmForm
from ..kernel.transaction import errors_on, keep_writes
from ..kernel.vocabulary import Role
from ..regions.services import regions_by_ids, regions_for_choices
from ..security import roles_required, safe_next
from . import bp
from .forms import ChangePasswordForm, LoginForm, UserCreateForm, UserEditForm
from .models import User
from .services import all_users, authenticate, change_password, create_user, sign_out_everywhere, update_user
from .sessions import end_session, live_sessions, start_session

GENERIC_LOGIN_ERROR = "That email address and password do not match an active account."
THROTTLED_LOGIN_ERROR = (
    "Too many attempts to sign in with this email address. Wait a few minutes and try again, "
    "or ask an admin to reset your password."
)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        attempt = authenticate(form.email.data, form.password.data)
        if attempt.user is None:
            # The attempt's audit entry and its count against the address stay, although the
            # answer is an error.
            keep_writes()
            if attempt.wait is not None:
                flash(THROTTLED_LOGIN_ERROR, "danger")
                seconds = str(int(attempt.wait.total_seconds()) + 1)
                return render_template("accounts/login.html", form=form), 429, {"Retry-After": seconds}
            flash(GENERIC_LOGIN_ERROR, "danger")
            return render_template("accounts/login.html", form=form), 400
        next_url = safe_next(request.args.get("next"))
        remember = bool(form.remember.data)
        session.clear()  # a fresh session at login: nothing carried over from before
        start_session(attempt.user, remember=remember, user_agent=request.user_agent.string)
        login_user(attempt.user, remember=remember)
        return redirect(next_url)
    return render_template("accounts/login.html", form=form), (400 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    user = current_user._get_current_object()
    record(user, AuditAction.LOGOUT, user)
    end_session(user.login_session)  # every copy of this session's cookies stops working now
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/sessions", methods=["GET", "POST"])
def sessions():
    """The devices signed in to this account; sign out of one, or everywhere."""
    user = current_user._get_current_object()
    form = ConfirmForm()
    if form.validate_on_submit():
        ended = sign_out_everywhere(user)
        logout_user()
        session.clear()
        flash(f"Signed out everywhere ({ended} session{'s' if ended != 1 else ''} ended).", "info")
        return redirect(url_for("accounts.login"))
    return render_template(
        "accounts/sessions.html", sessions=live_sessions(user), current=user.login_session, form=form
    ), (400 if form.errors else 200)


@bp.route("/account/sessions/<id:session_id>/end", methods=["POST"])
def end_one_session(session_id: int):
    user = current_user._get_current_object()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    target = next((s for s in live_sessions(user) if s.id == session_id), None)
    if target is None:
        abort(404)
    end_session(target)
    record(user, AuditAction.SESSION_ENDED, user, device=target.device)
    if user.login_session is not None and target.id == user.login_session.id:
        logout_user()
        session.clear()
        flash("You are logged out.", "info")
        return redirect(url_for("accounts.login"))
    flash(f"{target.device} is signed out.", "success")
    return redirect(url_for("accounts.sessions"))


@bp.route("/account/password", methods=["GET", "POST"])
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with errors_on(form, "current_password"):
            change_password(current_user, form.current_password.data, form.new_password.data)
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
