"""Letter pages: templates (admins), a case's letters (preview, send, download)."""

from __future__ import annotations

import io

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..cases.sections import case_page_section
from ..cases.services import get_case_for
from ..extensions import db
from ..kernel.transaction import errors_on
from ..kernel.vocabulary import Role
from ..main.home import Panel
from ..notices.models import ForeseeabilityNotice
from ..security import roles_required
from . import bp
from .forms import NewTemplateForm, PreviewForm, SendForm, TemplateForm
from .services import (
    FIELDS,
    LetterError,
    create_template,
    draft_letter,
    get_template_or_404,
    letter_for_download,
    letters_of,
    send_letter,
    templates_in_use,
    update_template,
)

admins_only = roles_required(Role.ADMIN)


@case_page_section
def letters_about_case(user, case):
    """A case's page lists the letters sent from templates, and where to write one."""
    return Panel(_("Letters"), "letters/_case_section.html", {"anchor": "letters", "letters": letters_of(case)})


def _merge_fields() -> dict[str, dict[str, str]]:
    """What each merge field holds, in the page's language."""
    return {root: {name: _(meaning) for name, meaning in names.items()} for root, names in FIELDS.items()}


@bp.route("/templates/")
@admins_only
def templates():
    return render_template("letters/templates.html", templates=templates_in_use())


@bp.route("/templates/new", methods=["GET", "POST"])
@admins_only
def template_new():
    form = NewTemplateForm()
    if form.validate_on_submit():
        with errors_on(form, "body"):
            template = create_template(
                current_user,
                name=form.name.data or "",
                kind=form.kind.data,
                subject=form.subject.data or "",
                body=form.body.data or "",
            )
            flash(_("Template “%(name)s” saved.", name=template.name), "success")
            return redirect(url_for("letters.templates"))
    status = 400 if form.errors else 200
    return render_template("letters/template_form.html", form=form, fields=_merge_fields(), template=None), status


@bp.route("/templates/<id:template_id>", methods=["GET", "POST"])
@admins_only
def template_edit(template_id: int):
    template = get_template_or_404(template_id)
    form = TemplateForm(obj=template if request.method == "GET" else None)
    if form.validate_on_submit():
        with errors_on(form, "body") as outcome:
            update_template(
                current_user,
                template,
                name=form.name.data or "",
                kind=form.kind.data,
                subject=form.subject.data or "",
                body=form.body.data or "",
                expected_version=form.version.data,
            )
            flash(_("Template “%(name)s” saved.", name=template.name), "success")
            return redirect(url_for("letters.templates"))
        if outcome.conflict:
            return render_template(
                "letters/template_form.html", form=form, fields=_merge_fields(), template=template
            ), 409
    status = 400 if form.errors else 200
    return render_template("letters/template_form.html", form=form, fields=_merge_fields(), template=template), status


def _choices(case):
    templates = [(t.id, f"{t.name} ({t.kind_label})") for t in templates_in_use()]
    notices = [
        (n.id, _("%(reference)s, served to %(role)s", reference=n.reference, role=n.served_to_role))
        for n in db.session.scalars(db.select(ForeseeabilityNotice).where(ForeseeabilityNotice.case_id == case.id))
    ]
    return {"templates": templates, "notices": notices}


@bp.route("/cases/<ref>", methods=["GET", "POST"])
def case_letters(ref: str):
    """Choose a template, preview the letter filled in, then send it."""
    case = get_case_for(current_user, ref)
    choices = _choices(case)
    preview_form = PreviewForm(formdata=request.args, **choices)
    send_form = (
        SendForm(**choices) if request.method == "POST" else SendForm(formdata=None, data=request.args, **choices)
    )
    draft = None
    status = 200
    if request.method == "POST":
        if send_form.validate():
            with errors_on(send_form, "template_id"):
                send_letter(
                    current_user,
                    case,
                    get_template_or_404(send_form.template_id.data),
                    send_form.notice_id.data,
                    bool(send_form.member_agrees.data),
                    send_form.language.data,
                )
                flash(_("Letter sent: it is frozen as a PDF and filed on the timeline."), "success")
                return redirect(url_for("letters.case_letters", ref=case.reference))
        status = 400
    elif request.args.get("template_id") and preview_form.validate():
        try:
            draft = draft_letter(
                current_user,
                case,
                get_template_or_404(preview_form.template_id.data),
                preview_form.notice_id.data,
                bool(preview_form.member_agrees.data),
                preview_form.language.data,
            )
        except LetterError as error:
            preview_form.form_errors.append(error.message)
            status = 400
    elif request.args.get("template_id"):
        status = 400
    return (
        render_template(
            "letters/case.html",
            case=case,
            preview_form=preview_form,
            send_form=send_form,
            draft=draft,
            letters=letters_of(case),
        ),
        status,
    )


@bp.route("/cases/<ref>/<id:letter_id>.pdf")
def download(ref: str, letter_id: int):
    letter = letter_for_download(current_user, ref, letter_id)
    return send_file(
        io.BytesIO(letter.pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{ref}-letter-{letter.id}.pdf",
    )
