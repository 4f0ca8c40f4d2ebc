"""The inbox: a person's own notifications, and their choice of what reaches them by e-mail.

Every view reads or changes the signed-in person's own rows only (``user_id`` in each
query), so there is no one else's notification to guess at.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..forms import ConfirmForm
from ..kernel.transaction import errors_on
from ..paging import paginate
from . import bp
from .forms import SettingsForm
from .services import PAGE_SIZE, choices_for, inbox_for, mark_read, save_choices, unread_count


@bp.route("/")
def inbox():
    unread_only = request.args.get("show") == "unread"
    pagination = paginate(inbox_for(current_user, unread_only=unread_only), PAGE_SIZE)
    return render_template(
        "notifications/inbox.html",
        pagination=pagination,
        unread=unread_count(current_user),
        unread_only=unread_only,
        form=ConfirmForm(formdata=None),
    )


@bp.route("/<id:notification_id>/read", methods=["POST"])
def read(notification_id: int):
    """Mark one of one's own notifications read (someone else's id changes nothing)."""
    form = ConfirmForm()
    if form.validate():
        mark_read(current_user, [notification_id])
    return redirect(url_for("notifications.inbox"))


@bp.route("/read-all", methods=["POST"])
def read_all():
    form = ConfirmForm()
    if form.validate():
        count = mark_read(current_user)
        flash(ngettext("%(num)d notification marked read.", "%(num)d notifications marked read.", count), "success")
    return redirect(url_for("notifications.inbox"))


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    if request.method == "GET":
        choices = choices_for(current_user.id)
        form = SettingsForm(
            formdata=None, data={"email_kinds": sorted(choices.email_kinds), "is_daily_digest": choices.is_daily_digest}
        )
        return render_template("notifications/settings.html", form=form)
    form = SettingsForm()
    if form.validate():
        with errors_on(form, "email_kinds"):
            save_choices(current_user, form.email_kinds.data or [], bool(form.is_daily_digest.data))
            flash(_("Your choices are saved."), "success")
            return redirect(url_for("notifications.settings"))
    return render_template("notifications/settings.html", form=form), 400
