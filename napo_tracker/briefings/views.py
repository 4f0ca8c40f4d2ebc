"""Briefings: compose, check, preview, publish and download. National officials and admins only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..evidence.services import format_value
from ..forms import select_choices
from ..kernel.transaction import errors_on
from ..main.home import Panel, home_panel
from ..regions.services import regions_for_choices
from ..security import roles_required
from ..testimonies.attribution import shown_attributions
from . import bp
from . import services as svc
from .checks import run_checks
from .document import DOCUMENT_LANGUAGES, briefing_document, chosen_testimonies, section_preview
from .forms import (
    AddQuestionForm,
    BriefingForm,
    ChartForm,
    CiteForm,
    ConfirmChangeForm,
    EvidenceFilterForm,
    NewBriefingForm,
    NewQuestionForm,
    NewSectionForm,
    PublishForm,
    QuestionForm,
    RegionalForm,
    RewordForm,
    SectionForm,
    TestimonyPickForm,
)
from .models import Briefing

STAFF = tuple(svc.BRIEFING_ROLES)


@home_panel
def briefings_panel(user: Any) -> Panel | None:
    if not svc.may_use_briefings(user):
        return None
    return Panel(
        _("Briefings"),
        "briefings/_panel.html",
        {"briefings": svc.recent_briefings()},
        "briefings.index",
        _("All briefings"),
    )


def _region_choices() -> list[tuple[int, str]]:
    return [(r.id, r.name) for r in regions_for_choices()]


# ---------------------------------------------------------------------------- list and details


@bp.route("/")
@roles_required(*STAFF)
def index():
    return render_template("briefings/index.html", briefings=svc.briefings_list())


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new():
    form = NewBriefingForm()
    if form.validate_on_submit():
        with errors_on(form, "title") as outcome:
            briefing = svc.create_briefing(
                current_user,
                title=form.title.data or "",
                subtitle=form.subtitle.data or "",
                audience=form.audience.data or "",
                dated_on=form.dated_on.data,
                signatory_name=form.signatory_name.data or "",
                signatory_title=form.signatory_title.data or "",
            )
            flash(_("Briefing %(reference)s started.", reference=briefing.reference), "success")
            return redirect(url_for("briefings.detail", ref=briefing.reference))
        return render_template("briefings/new.html", form=form), outcome.status_code
    return render_template("briefings/new.html", form=form), (400 if form.errors else 200)


@bp.route("/<ref>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit(ref: str):
    briefing = svc.get_briefing_for(current_user, ref)
    form = BriefingForm(obj=briefing if request.method == "GET" else None, expected_version=briefing.version)
    if form.validate_on_submit():
        with errors_on(form, "title") as outcome:
            svc.update_briefing(
                current_user,
                briefing,
                expected_version=form.expected_version.data,
                title=form.title.data or "",
                subtitle=form.subtitle.data or "",
                audience=form.audience.data or "",
                dated_on=form.dated_on.data or briefing.dated_on,
                signatory_name=form.signatory_name.data or "",
                signatory_title=form.signatory_title.data or "",
            )
            flash(_("Briefing saved."), "success")
            return redirect(url_for("briefings.detail", ref=briefing.reference))
        return render_template("briefings/edit.html", form=form, briefing=briefing), outcome.status_code
    return render_template("briefings/edit.html", form=form, briefing=briefing), (400 if form.errors else 200)


@bp.route("/<ref>")
@roles_required(*STAFF)
def detail(ref: str):
    briefing = svc.get_briefing_for(current_user, ref)
    return _render_detail(briefing, NewSectionForm(expected_version=briefing.version))


def _render_detail(briefing: Briefing, section_form: SectionForm, status: int = 200):
    return render_template(
        "briefings/detail.html",
        briefing=briefing,
        section_form=section_form,
        publish_form=PublishForm(formdata=None),
        checks=run_checks(briefing),
        testimonies=chosen_testimonies(briefing),
    ), status


def _confirmed(briefing: Briefing, change: Callable[[int | None], object], message: str, anchor: str | None = None):
    """A one-button change (CSRF and the briefing's version checked), then back to the composer
    with what happened, or why it did not."""
    form = ConfirmChangeForm()
    if not form.validate_on_submit():
        abort(400)
    with errors_on(form) as outcome:
        change(form.expected_version.data)
        flash(message, "success")
    if outcome.error is not None:
        flash(outcome.error.message, "danger")
    return redirect(url_for("briefings.detail", ref=briefing.reference, _anchor=anchor))


# ---------------------------------------------------------------------------- sections


@bp.route("/<ref>/sections", methods=["POST"])
@roles_required(*STAFF)
def section_new(ref: str):
    briefing = svc.get_briefing_for(current_user, ref)
    form = NewSectionForm()
    if not form.validate_on_submit():
        return _render_detail(briefing, form, 400)
    with errors_on(form, "body") as outcome:
        section = svc.add_section(
            current_user,
            briefing,
            kind=form.kind.data or "",
            heading=form.heading.data or "",
            body=form.body.data or "",
            expected_version=form.expected_version.data,
        )
        flash(_("Section “%(heading)s” added.", heading=section.heading), "success")
        return redirect(url_for("briefings.detail", ref=briefing.reference, _anchor=f"section-{section.id}"))
    return _render_detail(briefing, form, outcome.status_code)


@bp.route("/<ref>/sections/<id:section_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def section_edit(ref: str, section_id: int):
    briefing = svc.get_briefing_for(current_user, ref)
    section = svc.get_section_or_404(briefing, section_id)
    form = SectionForm(obj=section if request.method == "GET" else None, expected_version=briefing.version)

    def page(status: int, preview: Any = None):
        return render_template(
            "briefings/section_edit.html", form=form, briefing=briefing, section=section, preview=preview
        ), status

    if form.preview.data and form.validate_on_submit():
        # Shown as the PDF will print it, citations and all; nothing is saved.
        return page(200, section_preview(briefing, form.body.data or ""))
    if form.validate_on_submit():
        with errors_on(form, "body") as outcome:
            svc.update_section(
                current_user,
                section,
                kind=form.kind.data or "",
                heading=form.heading.data or "",
                body=form.body.data or "",
                expected_version=form.expected_version.data,
            )
            flash(_("Section saved."), "success")
            return redirect(url_for("briefings.detail", ref=briefing.reference, _anchor=f"section-{section.id}"))
        return page(outcome.status_code)
    return page(400 if form.errors else 200)


@bp.route("/<ref>/sections/<id:section_id>/move/<direction>", methods=["POST"])
@roles_required(*STAFF)
def section_move(ref: str, section_id: int, direction: str):
    briefing = svc.get_briefing_for(current_user, ref)
    section = svc.get_section_or_404(briefing, section_id)
    if direction not in ("up", "down"):
        abort(404)
    return _confirmed(
        briefing,
        lambda version: svc.move_section(current_user, section, direction, expected_version=version),
        _("Section moved."),
    )


@bp.route("/<ref>/sections/<id:section_id>/remove", methods=["POST"])
@roles_required(*STAFF)
def section_remove(ref: str, section_id: int):
    briefing = svc.get_briefing_for(current_user, ref)
    section = svc.get_section_or_404(briefing, section_id)
    return _confirmed(
        briefing,
        lambda version: svc.remove_section(current_user, section, expected_version=version),
        _("Section removed."),
    )


@bp.route("/<ref>/sections/<id:section_id>/chart", methods=["GET", "POST"])
@roles_required(*STAFF)
def section_chart(ref: str, section_id: int):
    briefing = svc.get_briefing_for(current_user, ref)
    section = svc.get_section_or_404(briefing, section_id)
    form = ChartForm(
        metric_choices=svc.metric_choices(), region_choices=_region_choices(), expected_version=briefing.version
    )
    if request.method == "GET":
        form.metric_code.data = section.chart_metric_code or ""
        form.region_ids.data = list(section.chart_region_ids or [])
        form.since_on.data = section.chart_since_on
        form.chart_on.data = section.chart_on
        form.references.data = ", ".join(section.chart_references or [])

    def page(status: int):
        return render_template("briefings/section_chart.html", form=form, briefing=briefing, section=section), status

    if form.validate_on_submit():
        with errors_on(form, "metric_code") as outcome:
            svc.set_section_chart(
                current_user,
                section,
                metric_code=form.metric_code.data or None,
                region_ids=form.region_ids.data or [],
                since_on=form.since_on.data,
                chart_on=form.chart_on.data,
                references=form.chosen_references(),
                expected_version=form.expected_version.data,
            )
            flash(_("Chart saved."), "success")
            return redirect(url_for("briefings.detail", ref=briefing.reference, _anchor=f"section-{section.id}"))
        return page(outcome.status_code)
    return page(400 if form.errors else 200)


# ---------------------------------------------------------------------------- evidence

PICKER_FILTERS = ("region", "metric", "since_on", "verified_only")


@bp.route("/<ref>/evidence", methods=["GET", "POST"])
@roles_required(*STAFF)
def evidence_picker(ref: str):
    briefing = svc.get_briefing_for(current_user, ref)
    metrics = svc.metric_choices()
    filters = EvidenceFilterForm(request.args, metric_choices=metrics, region_choices=_region_choices())
    filters.validate()
    cite = CiteForm()
    cite.section_id.choices = select_choices([(s.id, s.heading) for s in briefing.sections])
    status = 200
    if request.method == "POST":
        if cite.validate_on_submit():
            with errors_on(cite, "section_id") as outcome:
                section, item = svc.cite_evidence_by_reference(
                    current_user,
                    briefing,
                    section_id=cite.section_id.data,
                    reference=cite.evidence_reference.data or "",
                    expected_version=cite.expected_version.data,
                )
                flash(
                    _("%(reference)s cited in “%(heading)s”.", reference=item.reference, heading=section.heading),
                    "success",
                )
                kept: dict[str, Any] = {k: v for k, v in request.args.items() if k in PICKER_FILTERS}
                return redirect(url_for("briefings.evidence_picker", ref=briefing.reference, **kept))
            status = outcome.status_code
        else:
            status = 400
    # Filters outside the offered choices are ignored rather than sent to the database.
    region, metric = filters.region.data, filters.metric.data
    region_id = int(region) if region and region.isdigit() and len(region) < 10 else None
    items = svc.evidence_for_picker(
        briefing,
        region_id=region_id,
        metric_code=metric if metric in {code for code, _label in metrics} else None,
        since_on=filters.since_on.data if not filters.since_on.errors else None,
        verified_only=bool(filters.verified_only.data),
    )
    return render_template(
        "briefings/evidence_picker.html",
        briefing=briefing,
        filters=filters,
        cite=cite,
        items=items,
        public=not briefing.may_cite_internal,
        format_value=format_value,
    ), status


@bp.route("/<ref>/regional", methods=["GET", "POST"])
@roles_required(*STAFF)
def regional(ref: str):
    briefing = svc.get_briefing_for(current_user, ref)
    form = RegionalForm(region_choices=_region_choices(), expected_version=briefing.version)
    if form.validate_on_submit():
        with errors_on(form, "region_ids") as outcome:
            section, left_out = svc.generate_regional_section(
                current_user,
                briefing,
                form.region_ids.data or [],
                date_from=form.date_from.data,
                date_to=form.date_to.data,
                expected_version=form.expected_version.data,
            )
            flash(_("Regional evidence drafted: read it through and edit it."), "success")
            if left_out:
                shown = "; ".join(left_out[:12])
                if len(left_out) > 12:
                    shown = _("%(shown)s; and %(more)s more", shown=shown, more=len(left_out) - 12)
                flash(_("Left out (%(count)s): %(shown)s.", count=len(left_out), shown=shown), "info")
            return redirect(url_for("briefings.section_edit", ref=briefing.reference, section_id=section.id))
        return render_template("briefings/regional.html", form=form, briefing=briefing), outcome.status_code
    return render_template("briefings/regional.html", form=form, briefing=briefing), (400 if form.errors else 200)


# ---------------------------------------------------------------------------- testimonies


@bp.route("/<ref>/testimonies", methods=["GET", "POST"])
@roles_required(*STAFF)
def testimony_picker(ref: str):
    briefing = svc.get_briefing_for(current_user, ref)
    form = TestimonyPickForm(expected_version=briefing.version)
    if request.method == "GET":
        form.testimony_ids.data = [link.testimony_id for link in briefing.testimonies]

    def page(status: int):
        quotable = svc.quotable_for_briefing(briefing)
        return render_template(
            "briefings/testimony_picker.html",
            form=form,
            briefing=briefing,
            quotable=quotable,
            quoted_as={i: str(attribution) for i, attribution in shown_attributions(quotable).items()},
            consent=briefing.consent_needed,
            chosen=chosen_testimonies(briefing),
        ), status

    if form.validate_on_submit():
        with errors_on(form, "testimony_ids") as outcome:
            svc.set_testimonies(
                current_user, briefing, form.testimony_ids.data or [], expected_version=form.expected_version.data
            )
            flash(_("Testimonies saved."), "success")
            return redirect(url_for("briefings.detail", ref=briefing.reference, _anchor="testimonies"))
        return page(outcome.status_code)
    return page(400 if form.errors else 200)


# ---------------------------------------------------------------------------- questions


@bp.route("/<ref>/questions", methods=["GET", "POST"])
@roles_required(*STAFF)
def questions(ref: str):
    briefing = svc.get_briefing_for(current_user, ref)
    form = AddQuestionForm(expected_version=briefing.version)

    def page(status: int):
        used = {q.question_id for q in briefing.questions}
        return render_template(
            "briefings/questions.html",
            form=form,
            briefing=briefing,
            bank=[q for q in svc.active_questions() if q.id not in used],
        ), status

    if form.validate_on_submit():
        with errors_on(form, "text") as outcome:
            svc.add_question(
                current_user,
                briefing,
                question_id=form.question_id.data,
                text=form.text.data or "",
                expected_version=form.expected_version.data,
            )
            flash(_("Question added."), "success")
            return redirect(url_for("briefings.questions", ref=briefing.reference))
        return page(outcome.status_code)
    return page(400 if form.errors else 200)


@bp.route("/<ref>/questions/<id:item_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def question_reword(ref: str, item_id: int):
    briefing = svc.get_briefing_for(current_user, ref)
    item = svc.get_briefing_question_or_404(briefing, item_id)
    form = RewordForm(expected_version=briefing.version)
    if request.method == "GET":
        form.text.data = item.text

    def page(status: int):
        return render_template("briefings/question_reword.html", form=form, briefing=briefing, item=item), status

    if form.validate_on_submit():
        with errors_on(form, "text") as outcome:
            svc.reword_question(current_user, item, form.text.data or "", expected_version=form.expected_version.data)
            flash(_("Question reworded for this briefing."), "success")
            return redirect(url_for("briefings.questions", ref=briefing.reference))
        return page(outcome.status_code)
    return page(400 if form.errors else 200)


@bp.route("/<ref>/questions/<id:item_id>/move/<direction>", methods=["POST"])
@roles_required(*STAFF)
def question_move(ref: str, item_id: int, direction: str):
    briefing = svc.get_briefing_for(current_user, ref)
    item = svc.get_briefing_question_or_404(briefing, item_id)
    if direction not in ("up", "down"):
        abort(404)
    return _confirmed(
        briefing,
        lambda version: svc.move_question(current_user, item, direction, expected_version=version),
        _("Question moved."),
        "questions",
    )


@bp.route("/<ref>/questions/<id:item_id>/remove", methods=["POST"])
@roles_required(*STAFF)
def question_remove(ref: str, item_id: int):
    briefing = svc.get_briefing_for(current_user, ref)
    item = svc.get_briefing_question_or_404(briefing, item_id)
    return _confirmed(
        briefing,
        lambda version: svc.remove_question(current_user, item, expected_version=version),
        _("Question removed."),
        "questions",
    )


@bp.route("/<ref>/testimonies/<id:testimony_id>/move/<direction>", methods=["POST"])
@roles_required(*STAFF)
def testimony_move(ref: str, testimony_id: int, direction: str):
    briefing = svc.get_briefing_for(current_user, ref)
    link = svc.get_briefing_testimony_or_404(briefing, testimony_id)
    if direction not in ("up", "down"):
        abort(404)
    return _confirmed(
        briefing,
        lambda version: svc.move_testimony(current_user, link, direction, expected_version=version),
        _("Testimony moved."),
        "testimonies",
    )


@bp.route("/<ref>/sections/<id:section_id>/numbers/<key>", methods=["POST"])
@roles_required(*STAFF)
def number_mark(ref: str, section_id: int, key: str):
    """Mark a number in a section's text "not a statistic"."""
    briefing = svc.get_briefing_for(current_user, ref)
    section = svc.get_section_or_404(briefing, section_id)
    return _confirmed(
        briefing,
        lambda version: svc.mark_not_statistic(current_user, section, key[:40], expected_version=version),
        _("Marked “not a statistic”."),
        "checks",
    )


@bp.route("/questions", methods=["GET", "POST"])
@roles_required(*STAFF)
def question_bank():
    form = NewQuestionForm()
    if form.validate_on_submit():
        with errors_on(form, "text") as outcome:
            svc.create_question(current_user, text=form.text.data or "", topics=form.topics.data or "")
            flash(_("Question added to the bank."), "success")
            return redirect(url_for("briefings.question_bank"))
        status = outcome.status_code
    else:
        status = 400 if form.errors else 200
    return render_template("briefings/question_bank.html", form=form, bank=svc.question_bank()), status


@bp.route("/questions/<id:question_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def question_edit(question_id: int):
    question = svc.get_question_for(current_user, question_id)
    form = QuestionForm()
    if request.method == "GET":
        form.text.data, form.topics.data = question.text, ", ".join(question.topics or [])
        form.is_archived.data = question.is_archived
    if form.validate_on_submit():
        with errors_on(form, "text") as outcome:
            svc.update_question(
                current_user,
                question,
                text=form.text.data or "",
                topics=form.topics.data or "",
                is_archived=bool(form.is_archived.data),
            )
            flash(_("Question saved."), "success")
            return redirect(url_for("briefings.question_bank"))
        status = outcome.status_code
    else:
        status = 400 if form.errors else 200
    return render_template("briefings/question_edit.html", form=form, question=question), status


# ---------------------------------------------------------------------------- preview, publish, download


@bp.route("/document.css")
@roles_required(*STAFF)
def document_css():
    """The PDF's own stylesheet, so the preview page looks like the PDF (the CSP allows no inline CSS)."""
    return Response(render_template("briefings/pdf/briefing.css"), mimetype="text/css")


def _document_language() -> str:
    """The language of a briefing's fixed words (``?doc_lang=``): not the page's own ``lang``."""
    language = request.args.get("doc_lang", "en", type=str)
    return language if language in DOCUMENT_LANGUAGES else "en"


@bp.route("/<ref>/preview")
@roles_required(*STAFF)
def preview(ref: str):
    briefing = svc.get_briefing_for(current_user, ref)
    language = _document_language()
    return render_template(
        "briefings/preview.html",
        briefing=briefing,
        doc=briefing_document(briefing, language),
        languages=DOCUMENT_LANGUAGES,
        for_pdf=False,
        checks=run_checks(briefing),
    )


@bp.route("/<ref>/preview.pdf")
@roles_required(*STAFF)
def preview_pdf(ref: str):
    """The current draft as a PDF, rendered now (marked as a draft in the audit log)."""
    briefing = svc.get_briefing_for(current_user, ref)
    try:
        pdf = svc.render_draft_pdf(current_user, briefing, draft=True, language=_document_language())
    except svc.RenderFailed as error:  # nothing was written: the renderer's limits were reached
        flash(error.message, "danger")
        return redirect(url_for("briefings.detail", ref=briefing.reference))
    return _pdf_response(pdf, f"{briefing.reference}-draft.pdf")


@bp.route("/<ref>/publish", methods=["POST"])
@roles_required(*STAFF)
def publish(ref: str):
    briefing = svc.get_briefing_for(current_user, ref)
    form = PublishForm()
    if not form.validate_on_submit():
        abort(400)
    with errors_on(form) as outcome:
        job = svc.request_publish(
            current_user, briefing, expected_version=form.expected_version.data, language=form.language.data
        )
        return redirect(url_for("jobs.detail", job_id=job.id))
    if outcome.error is not None:
        flash(outcome.error.message, "danger")
    return redirect(url_for("briefings.detail", ref=briefing.reference, _anchor="checks"))


@bp.route("/<ref>/withdraw", methods=["POST"])
@roles_required(*STAFF)
def withdraw(ref: str):
    briefing = svc.get_briefing_for(current_user, ref)
    return _confirmed(
        briefing,
        lambda version: svc.withdraw(current_user, briefing, expected_version=version),
        f"{briefing.reference} withdrawn.",
    )


@bp.route("/<ref>/correct", methods=["POST"])
@roles_required(*STAFF)
def correct(ref: str):
    """One step: drop the withdrawn testimonies from the draft and publish the next version."""
    briefing = svc.get_briefing_for(current_user, ref)
    form = ConfirmChangeForm()
    if not form.validate_on_submit():
        abort(400)
    with errors_on(form) as outcome:
        job = svc.request_corrected(current_user, briefing, expected_version=form.expected_version.data)
        flash(_("Publishing a version without the withdrawn testimony: send it to the readers of the one it replaces."))
        return redirect(url_for("jobs.detail", job_id=job.id))
    if outcome.error is not None:
        flash(outcome.error.message, "danger")
    return redirect(url_for("briefings.detail", ref=briefing.reference, _anchor="checks"))


@bp.route("/<ref>.pdf")
@roles_required(*STAFF)
def pdf(ref: str):
    """The latest published version: the stored bytes, exactly as they were sent."""
    return _stored_pdf(ref, None)


@bp.route("/<ref>/v<id:number>.pdf")
@roles_required(*STAFF)
def version_pdf(ref: str, number: int):
    return _stored_pdf(ref, number)


def _stored_pdf(ref: str, number: int | None):
    try:
        version = svc.download_version(current_user, ref, number)
    except svc.VersionErased as gone:  # a page that says why, keeping what identifies what was sent
        return render_template("briefings/erased.html", briefing=gone.briefing, version=gone.version), 410
    return _pdf_response(version.pdf, f"{ref.strip().upper()}-v{version.number}.pdf", version.sha256)


def _pdf_response(pdf: bytes, filename: str, sha256: str | None = None) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    if sha256:
        response.headers["X-Content-SHA256"] = sha256
    return response
