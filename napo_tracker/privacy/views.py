"""The members' privacy notice (public), and admins' pages for subject access and erasure.

Each view parses the request, calls one service and renders; nothing here commits.
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..forms import ConfirmForm
from ..kernel import clock
from ..kernel.transaction import errors_on
from ..kernel.vocabulary import Role
from ..schedule import RULES
from ..security import roles_required
from . import bp
from . import services as svc
from .forms import AnsweredForm, EraseForm, RequestForm

admins_only = roles_required(Role.ADMIN)


@bp.route("/privacy")
def notice():
    """What the union keeps about members, why, how long, who sees it, and how to ask."""
    return render_template("privacy/notice.html", rules=RULES)


@bp.route("/admin/privacy/requests")
@admins_only
def requests():
    return render_template("privacy/requests.html", requests=svc.requests_list(), today=clock.today())


@bp.route("/admin/privacy/requests/new", methods=["GET", "POST"])
@admins_only
def request_new():
    form = RequestForm(data={"member": request.args.get("member", "")[:40]} if request.method == "GET" else None)
    if form.validate_on_submit():
        with errors_on(form, "member"):
            created = svc.record_request(
                current_user,
                svc.find_member(form.member.data),
                received_on=form.received_on.data,
                received_via=form.received_via.data,
            )
            flash(
                _(
                    "%(reference)s recorded: answer it by %(due)s.",
                    reference=created.reference,
                    due=created.due_on.strftime("%A %-d %B %Y"),
                ),
                "success",
            )
            return redirect(url_for("privacy.request_detail", reference=created.reference))
    return render_template("privacy/request_new.html", form=form), (400 if form.errors else 200)


@bp.route("/admin/privacy/requests/<reference>")
@admins_only
def request_detail(reference: str):
    found = svc.get_request_for(current_user, reference)
    return render_template(
        "privacy/request_detail.html",
        access_request=found,
        export_form=ConfirmForm(formdata=None),
        answered_form=AnsweredForm(formdata=None),
        today=clock.today(),
    )


@bp.route("/admin/privacy/requests/<reference>/export", methods=["POST"])
@admins_only
def request_export(reference: str):
    """Have the export made on a worker; its page shows the progress and leads back here."""
    found = svc.get_request_for(current_user, reference)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("privacy.request_detail", reference=found.reference))
    with errors_on(form) as outcome:
        job = svc.ask_for_export(current_user, found)
        return redirect(url_for("jobs.detail", job_id=job.id))
    if outcome.error is not None:
        flash(outcome.error.message, "danger")
    return redirect(url_for("privacy.request_detail", reference=found.reference))


@bp.route("/admin/privacy/requests/<reference>/export.zip")
@admins_only
def export_download(reference: str):
    """The export made for the request, as a download (audited)."""
    found = svc.get_request_for(current_user, reference)
    response = Response(svc.read_export(current_user, found), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{found.reference}-export.zip"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/admin/privacy/requests/<reference>/answered", methods=["POST"])
@admins_only
def request_answered(reference: str):
    found = svc.get_request_for(current_user, reference)
    form = AnsweredForm()
    if form.validate_on_submit():
        with errors_on(form, "answered_on"):
            svc.mark_answered(current_user, found, form.answered_on.data)
            flash(_("%(reference)s answered.", reference=found.reference), "success")
            return redirect(url_for("privacy.request_detail", reference=found.reference))
    return render_template(
        "privacy/request_detail.html",
        access_request=found,
        export_form=ConfirmForm(formdata=None),
        answered_form=form,
        today=clock.today(),
    ), 400


@bp.route("/admin/privacy/members/<id:member_id>/erase", methods=["GET", "POST"])
@admins_only
def erase(member_id: int):
    """What erasing the member will change, and the confirmation: their pseudonym typed again."""
    member = svc.get_member_or_404(current_user, member_id)
    plan = svc.preview_erasure(current_user, member)
    form = EraseForm(pseudonym=member.pseudonym, has_account=plan.account is not None)
    if not member.is_erased and form.validate_on_submit():
        with errors_on(form, "confirm"):
            svc.erase(current_user, member, account=form.account.data or None)
            flash(
                _(
                    "%(pseudonym)s erased. Their cases and notices are kept as anonymised facts.",
                    pseudonym=member.pseudonym,
                ),
                "success",
            )
            return redirect(url_for("cases.member_detail", member_id=member.id))
    return render_template("privacy/erase.html", member=member, plan=plan, form=form), (400 if form.errors else 200)
