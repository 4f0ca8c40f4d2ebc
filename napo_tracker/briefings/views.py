"""Briefings: compose, check, preview, publish and download. National officials and admins only."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..audit.models import AuditAction, record
from ..extensions import db
from ..forms import select_choices
from ..main.home import Panel, home_panel
from ..pdf import PDFRenderError
from ..security import roles_required
from . import bp
from . import services as svc
from .checks import run_checks
from .forms import (
    AddQuestionForm,
    BriefingForm,
    ChartForm,
    CiteForm,
    ConfirmForm,
    EvidenceFilterForm,
    QuestionForm,
    RegionalForm,
    RewordForm,
    SectionForm,
    TestimonyPickForm,
)
from .models import Briefing, BriefingVersion, Question

STAFF = ("official", "admin")


@home_panel
def briefings_panel(user):
    if getattr(user, "role", None) not in STAFF:
        return None
    briefings = db.session.scalars(select(Briefing).order_by(Briefing.updated_at.desc()).limit(5)).all()
    return Panel("Briefings", "briefings/_panel.html", {"briefings": briefings}, "briefings.index", "All briefings")


def _fail(error: svc.BriefingError, field=None) -> None:
    """Undo the half-made change and show why, next to the field when there is one."""
    db.session.rollback()
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        flash(str(error), "danger")


def _status_for(error: svc.BriefingError) -> int:
    return 409 if isinstance(error, svc.BriefingConflict) else 400


# ---------------------------------------------------------------------------- list and details


@bp.route("/")
@roles_required(*STAFF)
def index():
    return render_template("briefings/index.html", briefings=svc.briefings_list())


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new():
    form = BriefingForm()
    if form.validate_on_submit():
        briefing = svc.create_briefing(
            current_user,
            title=form.title.data,
            subtitle=form.subtitle.data or "",
            audience=form.audience.data,
            dated_on=form.dated_on.data,
            signatory_name=form.signatory_name.data or "",
            signatory_title=form.signatory_title.data or "",
        )
        db.session.commit()
        flash(f"Briefing {briefing.reference} started.", "success")
        return redirect(url_for("briefings.detail", ref=briefing.reference))
    return render_template("briefings/new.html", form=form), (400 if form.errors else 200)


@bp.route("/<ref>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit(ref: str):
    briefing = svc.get_briefing_or_404(ref)
    form = BriefingForm(obj=briefing if request.method == "GET" else None)
    if request.method == "GET":
        form.expected_version.data = briefing.version
    status = 200
    if form.validate_on_submit():
        try:
            svc.update_briefing(
                current_user,
                briefing,
                expected_version=form.expected(),
                title=form.title.data,
                subtitle=form.subtitle.data or "",
                audience=form.audience.data,
                dated_on=form.dated_on.data,
                signatory_name=form.signatory_name.data or "",
                signatory_title=form.signatory_title.data or "",
            )
        except svc.BriefingError as error:
            _fail(error, form.title)
            status = _status_for(error)
        else:
            db.session.commit()
            flash("Briefing saved.", "success")
            return redirect(url_for("briefings.detail", ref=briefing.reference))
    elif form.errors:
        status = 400
    return render_template("briefings/edit.html", form=form, briefing=briefing), status


@bp.route("/<ref>")
@roles_required(*STAFF)
def detail(ref: str):
    briefing = svc.get_briefing_or_404(ref)
    section_form = SectionForm(expected_version=briefing.version)
    return _render_detail(briefing, section_form)


def _render_detail(briefing: Briefing, section_form: SectionForm, status: int = 200):
    return render_template(
        "briefings/detail.html",
        briefing=briefing,
        section_form=section_form,
        confirm=ConfirmForm(expected_version=briefing.version),
        checks=run_checks(briefing),
        testimonies=svc.chosen_testimonies(briefing),
    ), status


# ---------------------------------------------------------------------------- sections


@bp.route("/<ref>/sections", methods=["POST"])
@roles_required(*STAFF)
def section_new(ref: str):
    briefing = svc.get_briefing_or_404(ref)
    form = SectionForm()
    if form.validate_on_submit():
        try:
            section = svc.add_section(
                current_user,
                briefing,
                kind=form.kind.data,
                heading=form.heading.data or "",
                body=form.body.data or "",
                expected_version=form.expected(),
            )
        except svc.BriefingError as error:
            _fail(error, form.body)
            return _render_detail(briefing, form, _status_for(error))
        db.session.commit()
        flash(f"Section “{section.heading}” added.", "success")
        return redirect(url_for("briefings.detail", ref=briefing.reference, _anchor=f"section-{section.id}"))
    return _render_detail(briefing, form, 400)


@bp.route("/<ref>/sections/<int(max=2147483647):section_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def section_edit(ref: str, section_id: int):
    briefing = svc.get_briefing_or_404(ref)
    section = svc.get_section_or_404(briefing, section_id)
    form = SectionForm(obj=section if request.method == "GET" else None)
    if request.method == "GET":
        form.expected_version.data = briefing.version
    status = 200
    if form.validate_on_submit():
        try:
            svc.update_section(
                current_user,
                section,
                kind=form.kind.data,
                heading=form.heading.data or "",
                body=form.body.data or "",
                expected_version=form.expected(),
            )
        except svc.BriefingError as error:
            _fail(error, form.body)
            status = _status_for(error)
        else:
            db.session.commit()
            flash("Section saved.", "success")
            return redirect(url_for("briefings.detail", ref=briefing.reference, _anchor=f"section-{section.id}"))
    elif form.errors:
        status = 400
    return render_template("briefings/section_edit.html", form=form, briefing=briefing, section=section), status


@bp.route("/<ref>/sections/<int(max=2147483647):section_id>/move/<direction>", methods=["POST"])
@roles_required(*STAFF)
def section_move(ref: str, section_id: int, direction: str):
    briefing = svc.get_briefing_or_404(ref)
    section = svc.get_section_or_404(briefing, section_id)
    if direction not in ("up", "down"):
        abort(404)
    return _confirmed(briefing, lambda: svc.move_section(current_user, section, direction), "Section moved.")


@bp.route("/<ref>/sections/<int(max=2147483647):section_id>/remove", methods=["POST"])
@roles_required(*STAFF)
def section_remove(ref: str, section_id: int):
    briefing = svc.get_briefing_or_404(ref)
    section = svc.get_section_or_404(briefing, section_id)
    return _confirmed(briefing, lambda: svc.remove_section(current_user, section), "Section removed.")


def _confirmed(briefing: Briefing, action, message: str, anchor: str | None = None):
    """Run a one-button change after its CSRF and version checks; back to the composer."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        svc.check_version(briefing, form.expected())
        action()
    except svc.BriefingError as error:
        _fail(error)
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("briefings.detail", ref=briefing.reference, _anchor=anchor))


def _metric_choices() -> list[tuple[str, str]]:
    from ..evidence.models import Metric

    return [(m.code, m.label) for m in db.session.scalars(select(Metric).order_by(Metric.label))]


def _region_choices() -> list[tuple[int, str]]:
    from ..regions.services import regions_for_choices

    return [(r.id, r.name) for r in regions_for_choices()]


@bp.route("/<ref>/sections/<int(max=2147483647):section_id>/chart", methods=["GET", "POST"])
@roles_required(*STAFF)
def section_chart(ref: str, section_id: int):
    briefing = svc.get_briefing_or_404(ref)
    section = svc.get_section_or_404(briefing, section_id)
    form = ChartForm(metric_choices=_metric_choices(), region_choices=_region_choices())
    if request.method == "GET":
        form.metric_code.data = section.chart_metric_code or ""
        form.region_ids.data = list(section.chart_region_ids or [])
        form.since_on.data = section.chart_since_on
        form.expected_version.data = briefing.version
    status = 200
    if form.validate_on_submit():
        try:
            svc.check_version(briefing, form.expected())
            svc.set_section_chart(
                current_user,
                section,
                metric_code=form.metric_code.data or None,
                region_ids=form.region_ids.data or [],
                since_on=form.since_on.data,
            )
        except svc.BriefingError as error:
            _fail(error, form.metric_code)
            status = _status_for(error)
        else:
            db.session.commit()
            flash("Chart saved.", "success")
            return redirect(url_for("briefings.detail", ref=briefing.reference, _anchor=f"section-{section.id}"))
    elif form.errors:
        status = 400
    return render_template("briefings/section_chart.html", form=form, briefing=briefing, section=section), status


# ---------------------------------------------------------------------------- evidence


@bp.route("/<ref>/evidence", methods=["GET", "POST"])
@roles_required(*STAFF)
def evidence_picker(ref: str):
    from ..evidence.models import EvidenceItem
    from ..evidence.services import format_value

    briefing = svc.get_briefing_or_404(ref)
    filters = EvidenceFilterForm(request.args, metric_choices=_metric_choices(), region_choices=_region_choices())
    filters.validate()
    cite = CiteForm()
    cite.section_id.choices = select_choices([(s.id, s.heading) for s in briefing.sections])
    status = 200
    if request.method == "POST":
        if cite.validate_on_submit():
            item = db.session.scalar(select(EvidenceItem).where(EvidenceItem.reference == cite.evidence_reference.data))
            section = next((s for s in briefing.sections if s.id == cite.section_id.data), None)
            if item is None or section is None:
                cite.section_id.errors = ["Choose one of this briefing's sections and an item from the list."]
                status = 400
            else:
                try:
                    svc.check_version(briefing, cite.expected())
                    svc.cite_evidence(current_user, section, item)
                except svc.BriefingError as error:
                    _fail(error, cite.section_id)
                    status = _status_for(error)
                else:
                    db.session.commit()
                    flash(f"{item.reference} cited in “{section.heading}”.", "success")
                    kept = {
                        k: v for k, v in request.args.items() if k in ("region", "metric", "since_on", "verified_only")
                    }
                    return redirect(url_for("briefings.evidence_picker", ref=briefing.reference, **kept))
        else:
            status = 400
    # Filters outside the offered choices are ignored rather than sent to the database.
    metrics = _metric_choices()
    region, metric = filters.region.data, filters.metric.data
    region_id = int(region) if region and region.isdigit() and len(region) < 10 else None
    items = svc.evidence_for_picker(
        briefing,
        region_id=region_id,
        metric_code=metric if metric in {code for code, _ in metrics} else None,
        since_on=filters.since_on.data if not filters.since_on.errors else None,
        verified_only=bool(filters.verified_only.data),
    )
    cite.expected_version.data = briefing.version
    return render_template(
        "briefings/evidence_picker.html",
        briefing=briefing,
        filters=filters,
        cite=cite,
        items=items,
        public=not svc.may_cite_internal(briefing.audience),
        format_value=format_value,
    ), status


@bp.route("/<ref>/regional", methods=["GET", "POST"])
@roles_required(*STAFF)
def regional(ref: str):
    briefing = svc.get_briefing_or_404(ref)
    form = RegionalForm(region_choices=_region_choices())
    if request.method == "GET":
        form.expected_version.data = briefing.version
    status = 200
    if form.validate_on_submit():
        try:
            svc.check_version(briefing, form.expected())
            section = svc.generate_regional_section(current_user, briefing, form.region_ids.data)
        except svc.BriefingError as error:
            _fail(error, form.region_ids)
            status = _status_for(error)
        else:
            db.session.commit()
            flash("Regional evidence drafted: read it through and edit it.", "success")
            return redirect(url_for("briefings.section_edit", ref=briefing.reference, section_id=section.id))
    elif form.errors:
        status = 400
    return render_template("briefings/regional.html", form=form, briefing=briefing), status


# ---------------------------------------------------------------------------- testimonies


@bp.route("/<ref>/testimonies", methods=["GET", "POST"])
@roles_required(*STAFF)
def testimony_picker(ref: str):
    briefing = svc.get_briefing_or_404(ref)
    form = TestimonyPickForm()
    if request.method == "GET":
        form.testimony_ids.data = [link.testimony_id for link in briefing.testimonies]
        form.expected_version.data = briefing.version
    status = 200
    if form.validate_on_submit():
        try:
            svc.check_version(briefing, form.expected())
            svc.set_testimonies(current_user, briefing, form.testimony_ids.data or [])
        except svc.BriefingError as error:
            _fail(error, form.testimony_ids)
            status = _status_for(error)
        else:
            db.session.commit()
            flash("Testimonies saved.", "success")
            return redirect(url_for("briefings.detail", ref=briefing.reference, _anchor="testimonies"))
    elif form.errors:
        status = 400
    return render_template(
        "briefings/testimony_picker.html",
        form=form,
        briefing=briefing,
        quotable=svc.quotable_for_briefing(briefing),
        consent=svc.consent_audience(briefing.audience),
        chosen=svc.chosen_testimonies(briefing),
    ), status


# ---------------------------------------------------------------------------- questions


@bp.route("/<ref>/questions", methods=["GET", "POST"])
@roles_required(*STAFF)
def questions(ref: str):
    briefing = svc.get_briefing_or_404(ref)
    form = AddQuestionForm()
    if request.method == "GET":
        form.expected_version.data = briefing.version
    status = 200
    if form.validate_on_submit():
        question = db.session.get(Question, form.question_id.data) if form.question_id.data else None
        try:
            svc.check_version(briefing, form.expected())
            if form.question_id.data and question is None:
                raise svc.BriefingError("That question is not in the bank.")
            svc.add_question(current_user, briefing, question=question, text=form.text.data or "")
        except svc.BriefingError as error:
            _fail(error, form.text)
            status = _status_for(error)
        else:
            db.session.commit()
            flash("Question added.", "success")
            return redirect(url_for("briefings.questions", ref=briefing.reference))
    elif form.errors:
        status = 400
    used = {q.question_id for q in briefing.questions}
    return render_template(
        "briefings/questions.html",
        form=form,
        briefing=briefing,
        bank=[q for q in svc.active_questions() if q.id not in used],
        confirm=ConfirmForm(expected_version=briefing.version),
    ), status


@bp.route("/<ref>/questions/<int(max=2147483647):item_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def question_reword(ref: str, item_id: int):
    briefing = svc.get_briefing_or_404(ref)
    item = svc.get_briefing_question_or_404(briefing, item_id)
    form = RewordForm()
    if request.method == "GET":
        form.text.data, form.expected_version.data = item.text, briefing.version
    status = 200
    if form.validate_on_submit():
        try:
            svc.reword_question(current_user, item, form.text.data, expected_version=form.expected())
        except svc.BriefingError as error:
            _fail(error, form.text)
            status = _status_for(error)
        else:
            db.session.commit()
            flash("Question reworded for this briefing.", "success")
            return redirect(url_for("briefings.questions", ref=briefing.reference))
    elif form.errors:
        status = 400
    return render_template("briefings/question_reword.html", form=form, briefing=briefing, item=item), status


@bp.route("/<ref>/questions/<int(max=2147483647):item_id>/move/<direction>", methods=["POST"])
@roles_required(*STAFF)
def question_move(ref: str, item_id: int, direction: str):
    briefing = svc.get_briefing_or_404(ref)
    item = svc.get_briefing_question_or_404(briefing, item_id)
    if direction not in ("up", "down"):
        abort(404)
    return _confirmed(
        briefing, lambda: svc.move_question(current_user, item, direction), "Question moved.", "questions"
    )


@bp.route("/<ref>/questions/<int(max=2147483647):item_id>/remove", methods=["POST"])
@roles_required(*STAFF)
def question_remove(ref: str, item_id: int):
    briefing = svc.get_briefing_or_404(ref)
    item = svc.get_briefing_question_or_404(briefing, item_id)
    return _confirmed(briefing, lambda: svc.remove_question(current_user, item), "Question removed.", "questions")


@bp.route("/questions", methods=["GET", "POST"])
@roles_required(*STAFF)
def question_bank():
    form = QuestionForm()
    if form.validate_on_submit():
        svc.create_question(current_user, text=form.text.data, topics=form.topics.data or "")
        db.session.commit()
        flash("Question added to the bank.", "success")
        return redirect(url_for("briefings.question_bank"))
    bank = db.session.scalars(
        select(Question).order_by(Question.is_archived, Question.times_used.desc(), Question.id)
    ).all()
    return render_template("briefings/question_bank.html", form=form, bank=bank), (400 if form.errors else 200)


@bp.route("/questions/<int(max=2147483647):question_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def question_edit(question_id: int):
    question = db.session.get(Question, question_id) or abort(404)
    form = QuestionForm(obj=None)
    if request.method == "GET":
        form.text.data, form.topics.data = question.text, ", ".join(question.topics or [])
        form.is_archived.data = question.is_archived
    if form.validate_on_submit():
        svc.update_question(
            current_user,
            question,
            text=form.text.data,
            topics=form.topics.data or "",
            is_archived=form.is_archived.data,
        )
        db.session.commit()
        flash("Question saved.", "success")
        return redirect(url_for("briefings.question_bank"))
    return render_template("briefings/question_edit.html", form=form, question=question), (400 if form.errors else 200)


# ---------------------------------------------------------------------------- preview, publish, download


@bp.route("/document.css")
@roles_required(*STAFF)
def document_css():
    """The PDF's own stylesheet, so the preview page looks like the PDF (the CSP allows no inline CSS)."""
    return Response(render_template("briefings/pdf/briefing.css"), mimetype="text/css")


@bp.route("/<ref>/preview")
@roles_required(*STAFF)
def preview(ref: str):
    briefing = svc.get_briefing_or_404(ref)
    return render_template(
        "briefings/preview.html",
        briefing=briefing,
        doc=svc.briefing_document(briefing),
        for_pdf=False,
        checks=run_checks(briefing),
    )


@bp.route("/<ref>/preview.pdf")
@roles_required(*STAFF)
def preview_pdf(ref: str):
    """The current draft as a PDF, rendered now (marked as a draft in the audit log)."""
    briefing = svc.get_briefing_or_404(ref)
    try:
        pdf = svc.render_briefing_pdf(briefing)
    except PDFRenderError as error:
        flash(str(error), "danger")
        return redirect(url_for("briefings.detail", ref=briefing.reference))
    record(current_user, AuditAction.BRIEFING_RENDERED, briefing, version=briefing.draft_version, draft=True)
    db.session.commit()
    return _pdf_response(pdf, f"{briefing.reference}-draft.pdf")


@bp.route("/<ref>/publish", methods=["POST"])
@roles_required(*STAFF)
def publish(ref: str):
    briefing = svc.get_briefing_or_404(ref)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        version = svc.publish(current_user, briefing, expected_version=form.expected())
    except (svc.BriefingError, PDFRenderError) as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("briefings.detail", ref=briefing.reference, _anchor="checks"))
    db.session.commit()
    flash(f"{briefing.reference} version {version.number} published. Its PDF is now frozen.", "success")
    return redirect(url_for("briefings.detail", ref=briefing.reference))


@bp.route("/<ref>/withdraw", methods=["POST"])
@roles_required(*STAFF)
def withdraw(ref: str):
    briefing = svc.get_briefing_or_404(ref)
    return _confirmed(briefing, lambda: svc.withdraw(current_user, briefing), f"{briefing.reference} withdrawn.")


def _stored_version(ref: str, number: int | None):
    """One published version's stored bytes, by the briefing's reference: one query, no rendering."""
    if not svc.REFERENCE_PATTERN.fullmatch(ref.strip().upper()):
        abort(404)
    stmt = (
        select(BriefingVersion.number, BriefingVersion.sha256, BriefingVersion.pdf)
        .join(Briefing)
        .where(Briefing.reference == ref.strip().upper())
        .order_by(BriefingVersion.number.desc())
        .limit(1)
    )
    if number is not None:
        stmt = stmt.where(BriefingVersion.number == number)
    version = db.session.execute(stmt).first()
    if version is None:
        abort(404)
    return version


@bp.route("/<ref>.pdf")
@roles_required(*STAFF)
def pdf(ref: str):
    """The latest published version: the stored bytes, exactly as they were sent."""
    version = _stored_version(ref, None)
    return _pdf_response(version.pdf, f"{ref.strip().upper()}-v{version.number}.pdf", version.sha256)


@bp.route("/<ref>/v<int(max=2147483647):number>.pdf")
@roles_required(*STAFF)
def version_pdf(ref: str, number: int):
    version = _stored_version(ref, number)
    return _pdf_response(version.pdf, f"{ref.strip().upper()}-v{version.number}.pdf", version.sha256)


def _pdf_response(pdf: bytes, filename: str, sha256: str | None = None) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    if sha256:
        response.headers["X-Content-SHA256"] = sha256
    return response
