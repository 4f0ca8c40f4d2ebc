"""Personal API tokens: the pages where officials and admins create and revoke them.

The API itself is read-only and answers machines; these pages answer people, so they
are a blueprint of their own (at the address they have always had).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..forms import ConfirmForm
from ..kernel.transaction import errors_on
from ..kernel.vocabulary import Role
from ..security import roles_required
from .forms import ApiTokenForm
from .services import create_token, get_token_for, revoke_token, tokens_for

bp = Blueprint("api_tokens", __name__, url_prefix="/evidence/api-tokens")


@bp.route("", methods=["GET", "POST"])
@roles_required(Role.OFFICIAL, Role.ADMIN)
def index():
    form = ApiTokenForm()
    new_token_text = None
    if form.validate_on_submit():
        with errors_on(form, "name"):
            _token, new_token_text = create_token(current_user, form.name.data or "")
            form = ApiTokenForm(formdata=None)
    return render_template(
        "api/tokens.html",
        form=form,
        tokens=tokens_for(current_user),
        new_token=new_token_text,
        revoke_form=ConfirmForm(),
    ), (400 if form.errors else 200)


@bp.route("/<id:token_id>/revoke", methods=["POST"])
@roles_required(Role.OFFICIAL, Role.ADMIN)
def revoke(token_id: int):
    token = get_token_for(current_user, token_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    revoke_token(current_user, token)
    flash(_("Token '%(name)s' revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("api_tokens.index"))
