from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from flask_login import current_user, login_required, login_user, logout_user

from ..audit.models import AuditAction, record
from ..extensions import db, limiter
from ..forms import ConfirmForm
from ..kernel.clock import utcnow
from ..kernel.transaction import errors_on, keep_writes
from ..kernel.vocabulary import Role
from ..regions.services import regions_by_ids, regions_for_choices
from ..security import roles_required, safe_next
from . import bp, two_factor
from .forms import (
    ChangePasswordForm,
    CodeForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
)
from .models import User
from .resets import request_reset, reset_for_token, reset_password
from .services import all_users, authenticate, change_password, create_user, sign_out_everywhere, update_user
from .sessions import end_session, end_sessions, live_sessions, start_session
from .user_forms import UserCreateForm, UserEditForm

PENDING = "second_factor_pending"  # in the session between the password and the code
PENDING_SECONDS = 300
SETUP_SECRET = "two_factor_setup_secret"  # a secret offered for setting up, until proved with a code
# What a person who must set up two-factor sign-in may reach before they have.
TWO_FACTOR_SETUP_ENDPOINTS = frozenset({"accounts.two_factor_page", "accounts.logout", "static", "bootstrap.static"})
GENERIC_LOGIN_ERROR = lazy_gettext("That email address and password do not match an active account.")
THROTTLED_LOGIN_ERROR = lazy_gettext(
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
                flash(str(THROTTLED_LOGIN_ERROR), "danger")
                seconds = str(int(attempt.wait.total_seconds()) + 1)
                return render_template("accounts/login.html", form=form), 429, {"Retry-After": seconds}
            flash(str(GENERIC_LOGIN_ERROR), "danger")
            return render_template("accounts/login.html", form=form), 400
        next_url = safe_next(request.args.get("next"))
        remember = bool(form.remember.data)
        session.clear()  # a fresh session at login: nothing carried over from before
        if attempt.user.has_two_factor:
            # The password was right; the second factor comes next, within a few minutes.
            session[PENDING] = {
                "user": attempt.user.id,
                "remember": remember,
                "next": next_url,
                "until": utcnow().timestamp() + PENDING_SECONDS,
            }
            return redirect(url_for("accounts.second_factor"))
        return _signed_in(attempt.user, remember, next_url)
    return render_template("accounts/login.html", form=form), (400 if form.errors else 200)


def _signed_in(user: User, remember: bool, next_url: str):
    start_session(user, remember=remember, user_agent=request.user_agent.string)
    login_user(user, remember=remember)
    return redirect(next_url)


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def second_factor():
    """The second step of signing in, for accounts with two-factor sign-in."""
    pending = session.get(PENDING)
    user = db.session.get(User, pending["user"]) if isinstance(pending, dict) else None
    if pending is None or user is None or not user.is_active or utcnow().timestamp() > pending["until"]:
        session.pop(PENDING, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            method = two_factor.verify(user, form.code.data)
        except two_factor.WrongCode as error:  # nothing was written: only the failure is counted
            two_factor.count_wrong_code(user)
            keep_writes()  # the wrong code counts against the account, although the answer is 400
            form.code.errors = [error.message]
            return render_template("accounts/second_factor.html", form=form), 400
        except two_factor.TwoFactorError as error:
            form.code.errors = [error.message]
            return render_template("accounts/second_factor.html", form=form), 429
        session.pop(PENDING, None)
        if method == "recovery code":
            left = two_factor.recovery_codes_left(user)
            flash(
                ngettext(
                    "You used a recovery code; %(num)d left. Set up new ones from your account page.",
                    "You used a recovery code; %(num)d left. Set up new ones from your account page.",
                    left,
                ),
                "warning",
            )
        return _signed_in(user, bool(pending["remember"]), pending["next"])
    return render_template("accounts/second_factor.html", form=form), (400 if form.errors else 200)


@bp.route("/login/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot():
    """Ask for a reset link; the same answer whether or not the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        request_reset(form.email.data)
        flash(
            _("If an account uses that address, we have sent it a link to reset the password. It works for an hour."),
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form), (400 if form.errors else 200)


@bp.route("/login/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def reset(token: str):
    """Choose a new password through a reset link."""
    reset_for_token(token)  # an unknown or spent link is refused before the form is shown
    form = ResetPasswordForm()
    if form.validate_on_submit():
        with errors_on(form, "new_password"):
            reset_password(token, form.new_password.data)
            session.clear()
            flash(_("Your password is set, and every device was signed out. Sign in with the new password."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset.html", form=form), (400 if form.errors else 200)


@bp.record_once
def _check_settings(state: BlueprintSetupState) -> None:
    two_factor.required_roles(state.app.config["REQUIRE_TWO_FACTOR"])  # a bad role name refuses to start


@bp.before_app_request
def two_factor_first():
    """A person whose role needs two-factor sign-in sets it up before doing anything else."""
    if request.endpoint in TWO_FACTOR_SETUP_ENDPOINTS or request.blueprint == "api":
        return None
    if current_user.is_authenticated and two_factor.needs_setting_up(current_user):
        return redirect(url_for("accounts.two_factor_page"))
    return None


@bp.route("/account/two-factor", methods=["GET", "POST"])
def two_factor_page():
    """Turn two-factor sign-in on (scan, then prove with a code), see it, or turn it off."""
    user = current_user._get_current_object()
    if user.has_two_factor:
        return render_template(
            "accounts/two_factor.html",
            user=user,
            codes_form=CodeForm(prefix="codes"),
            off_form=CodeForm(prefix="off"),
            left=two_factor.recovery_codes_left(user),
            required=two_factor.is_required(user),
        )
    form = CodeForm()
    secret = session.get(SETUP_SECRET)
    if not isinstance(secret, str):
        secret = session[SETUP_SECRET] = two_factor.new_secret()
    if form.validate_on_submit():
        with errors_on(form, "code"):
            codes = two_factor.turn_on(user, secret, form.code.data)
            session.pop(SETUP_SECRET, None)
            return render_template("accounts/recovery_codes.html", codes=codes)
    uri, qr = two_factor.provisioning(user, secret)
    return render_template(
        "accounts/two_factor_setup.html",
        form=form,
        secret=secret,
        uri=uri,
        qr=qr,
        required=two_factor.is_required(user),
    ), (400 if form.errors else 200)


def _code_checked_change(prefix: str, change):
    """Run a change that needs a current code; a wrong code counts against the account."""
    user = current_user._get_current_object()
    form = CodeForm(prefix=prefix)
    if not form.validate_on_submit():
        flash(_("Type the code your app shows now."), "danger")
        return redirect(url_for("accounts.two_factor_page"))
    try:
        return change(user, form.code.data)
    except two_factor.WrongCode as error:  # nothing was written: only the failure is counted
        two_factor.count_wrong_code(user)
        keep_writes()
        flash(error.message, "danger")
        return redirect(url_for("accounts.two_factor_page")), 400


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
def new_recovery_codes():
    def change(user, code):
        codes = two_factor.new_recovery_codes(user, code)
        return render_template("accounts/recovery_codes.html", codes=codes)

    return _code_checked_change("codes", change)


@bp.route("/account/two-factor/off", methods=["POST"])
def two_factor_off():
    def change(user, code):
        two_factor.turn_off(user, user, code=code)
        flash(_("Two-factor sign-in is off."), "info")
        return redirect(url_for("accounts.two_factor_page"))

    return _code_checked_change("off", change)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    user = current_user._get_current_object()
    record(user, AuditAction.LOGOUT, user)
    end_session(user.login_session)  # every copy of this session's cookies stops working now
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
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
        flash(
            ngettext(
                "Signed out everywhere (%(num)d session ended).",
                "Signed out everywhere (%(num)d sessions ended).",
                ended,
            ),
            "info",
        )
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
        flash(_("You are logged out."), "info")
        return redirect(url_for("accounts.login"))
    flash(_("%(device)s is signed out.", device=target.device), "success")
    return redirect(url_for("accounts.sessions"))


@bp.route("/account/password", methods=["GET", "POST"])
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with errors_on(form, "current_password"):
            change_password(current_user, form.current_password.data, form.new_password.data)
            flash(_("Your password is changed. Other devices have been logged out."), "success")
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
            flash(_("Account created for %(email)s.", email=user.email), "success")
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
            flash(_("Saved %(email)s.", email=user.email), "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form, user=user), (400 if form.errors else 200)


@bp.route("/admin/users/<id:user_id>/two-factor/reset", methods=["POST"])
@roles_required(Role.ADMIN)
def user_two_factor_reset(user_id: int):
    """For someone who lost their phone: they set two-factor sign-in up again at next sign-in."""
    user = db.session.get(User, user_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    two_factor.turn_off(current_user._get_current_object(), user)
    end_sessions(user)
    flash(
        _("Two-factor sign-in reset for %(email)s; they set it up again when they next sign in.", email=user.email),
        "success",
    )
    return redirect(url_for("accounts.user_edit", user_id=user.id))
