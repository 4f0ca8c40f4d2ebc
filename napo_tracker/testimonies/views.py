"""The public testimony pages (no login) and the officials' moderation pages.

The public views never read ``current_user``, the address, the browser or any cookie but
the session that carries the CSRF token: what a member sends cannot be tied to them,
even when they happen to be logged in. No view commits: the request's transaction keeps
a change when the page answers well and drops it otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..charts import bar_chart_svg, svg_data_uri
from ..csvexport import csv_response
from ..extensions import limiter
from ..kernel.labels import N_
from ..kernel.transaction import errors_on
from ..kernel.vocabulary import SEES_ALL_REGIONS
from ..paging import paginate
from ..regions.services import regions_for_choices
from ..security import roles_required
from . import bp
from . import services as svc
from .attribution import shown_attribution
from .forms import UNKNOWN_CODE, AnswerForm, StatusForm, TestimonyForm, WithdrawForm
from .models import Testimony
from .moderation_forms import ApproveForm, FilterForm, QuestionForm, RejectForm, TagForm
from .privacy import rate_limit_key
from .redaction import KIND_LABELS, segments, suggest_redaction

RECEIPT_SESSION_KEY = "testimony_receipt"
PAGE_SIZE = 50
RETRY_MESSAGE = lazy_gettext("That did not go through: please try again.")
SAME_MOMENT_MESSAGE = lazy_gettext(
    "Someone else changed this testimony at the same moment. Please check it and try again."
)

# Members write from every region, so testimonies are read and moderated by those who see
# every region: national officials and admins.
moderators_only = roles_required(*SEES_ALL_REGIONS)


def _submit_limit() -> str:
    return current_app.config["TESTIMONY_SUBMIT_RATE_LIMIT"]


def _status_limit() -> str:
    return current_app.config["TESTIMONY_STATUS_RATE_LIMIT"]


def _code_failed(response: Any) -> bool:
    """Only wrong codes use up the status page's allowance."""
    return bool(g.get("testimony_code_failed"))


def _region_choices() -> list[tuple[str, str]]:
    return [(str(r.id), r.name) for r in regions_for_choices()]


# --- public -------------------------------------------------------------------------------

# The app-wide Referrer-Policy (same-origin) already tells other sites nothing; a stricter
# no-referrer here would stop browsers sending the Referer that CSRF checks need over HTTPS.


@bp.route("/testimony", methods=["GET", "POST"])
@limiter.limit(_submit_limit, key_func=rate_limit_key, methods=["POST"])
def submit():
    form = TestimonyForm(region_choices=_region_choices())
    if form.validate_on_submit():
        if form.is_bot:
            # Looks like success to the bot; nothing is stored.
            session[RECEIPT_SESSION_KEY] = svc.new_receipt_code()
            return redirect(url_for("testimonies.receipt"))
        with errors_on(form, "text"):
            _testimony, code = svc.submit_testimony(
                text=form.text.data,
                region_id=int(form.region.data) if form.region.data else None,
                grade=form.grade.data or None,
                service_band=form.service_band.data or None,
                topics=form.topics.data or [],
                has_mps_consent=form.has_mps_consent.data,
                has_press_consent=form.has_press_consent.data,
            )
            session[RECEIPT_SESSION_KEY] = code
            return redirect(url_for("testimonies.receipt"))
    return render_template("testimonies/submit.html", form=form), (400 if form.errors else 200)


@bp.route("/testimony/receipt")
def receipt():
    """The receipt code, shown once: it leaves the session as it is shown."""
    code = session.pop(RECEIPT_SESSION_KEY, None)
    return render_template("testimonies/receipt.html", code=code)


@bp.route("/testimony/status", methods=["GET", "POST"])
@limiter.limit(_status_limit, key_func=rate_limit_key, methods=["POST"], deduct_when=_code_failed)
def status():
    check_form = StatusForm()
    answer_form = AnswerForm(prefix="answer")
    withdraw_form = WithdrawForm(prefix="withdraw")
    if answer_form.submit.data:
        return _status_action(answer_form, _answer)
    if withdraw_form.submit.data:
        return _status_action(withdraw_form, _withdraw)
    if check_form.validate_on_submit():
        testimony = svc.find_by_code(check_form.code.data)
        if testimony is not None:
            return _status_page(testimony, check_form.code.data)
        check_form.code.errors = [*check_form.code.errors, UNKNOWN_CODE]
    if check_form.code.errors:
        g.testimony_code_failed = True
    return render_template("testimonies/status.html", form=check_form, testimony=None), (
        400 if check_form.errors else 200
    )


def _status_action(form: AnswerForm | WithdrawForm, action: Callable[[Testimony, Any], str]):
    """Answer or withdraw: the code comes again with the form, and is checked again."""
    testimony = svc.find_by_code(form.code.data) if form.code.validate(form) else None
    if testimony is None:
        g.testimony_code_failed = True
        check_form = StatusForm(formdata=None)
        check_form.code.errors = [UNKNOWN_CODE]
        return render_template("testimonies/status.html", form=check_form, testimony=None), 400
    if not form.validate_on_submit():
        return _status_page(testimony, form.code.data, **{_form_name(form): form}), 400
    with errors_on(form) as outcome:
        flash(action(testimony, form), "success")
        return _status_page(testimony, form.code.data)
    # Refused: the page shows the testimony as it now stands, with the reason above it.
    refused = outcome.error
    flash(gettext(refused.message) if isinstance(refused, svc.TestimonyError) else str(RETRY_MESSAGE), "warning")
    return _status_page(testimony, form.code.data), 409


def _form_name(form: AnswerForm | WithdrawForm) -> str:
    return "answer_form" if isinstance(form, AnswerForm) else "withdraw_form"


def _answer(testimony: Testimony, form: AnswerForm) -> str:
    svc.answer_follow_up(testimony, form.follow_up_id.data, form.answer.data)
    return gettext("Thank you: your answer has been sent to the union.")


def _withdraw(testimony: Testimony, form: WithdrawForm) -> str:
    svc.withdraw(testimony)
    return gettext(
        "Your testimony is withdrawn. What you wrote has been erased from our records and will not be used again. "
        "Below is what happened to any copy already sent out."
    )


def _status_page(
    testimony: Testimony,
    code: str | None,
    answer_form: AnswerForm | None = None,
    withdraw_form: WithdrawForm | None = None,
):
    answer_form = answer_form or AnswerForm(prefix="answer", formdata=None)
    withdraw_form = withdraw_form or WithdrawForm(prefix="withdraw", formdata=None)
    answer_form.code.data = withdraw_form.code.data = code
    return render_template(
        "testimonies/status.html",
        form=None,
        testimony=testimony,
        answer_form=answer_form,
        withdraw_form=withdraw_form,
        copies=svc.copies_sent(testimony),
        was_exported=svc.was_in_an_export(testimony),
    )


# --- moderation (officials and admins) ----------------------------------------------------


def _filters_from(form: FilterForm) -> svc.TestimonyFilters:
    region = form.cleaned(form.region)
    return svc.TestimonyFilters(
        status=form.cleaned(form.status),
        region_id=int(region) if region else None,
        grade=form.cleaned(form.grade),
        topic=form.cleaned(form.topic),
        consent=form.cleaned(form.consent),
    )


@bp.route("/testimonies/")
@moderators_only
def moderation():
    """The queue (status 'submitted' unless another filter is chosen) and the full list."""
    args = request.args if request.args else MultiDict({"status": "submitted"})
    form = FilterForm(formdata=args, region_choices=_region_choices())
    filters = _filters_from(form)
    pagination = paginate(svc.filtered_testimonies(filters), PAGE_SIZE)
    summary = svc.topic_summary()
    chart = None
    if any(total for _topic, total, _approved in summary):
        totals: list[Decimal | None] = [Decimal(total) for _topic, total, _a in summary]
        chart = svg_data_uri(
            bar_chart_svg(
                gettext("Testimonies by topic (withdrawn ones left out)"),
                [gettext(topic) for topic, _t, _a in summary],
                totals,
            )
        )
    return render_template(
        "testimonies/moderation.html",
        form=form,
        filters=filters,
        pagination=pagination,
        counts=svc.status_counts(),
        summary=summary,
        chart=chart,
    )


@bp.route("/testimonies/export.csv")
@moderators_only
def export():
    """Approved public texts that may be quoted to MPs or the press; nothing else leaves."""
    form = FilterForm(formdata=request.args, region_choices=_region_choices())
    rows = svc.export_testimonies(current_user, _filters_from(form))
    return csv_response("testimonies-public.csv", svc.EXPORT_HEADER, rows)


def _moderation_forms(testimony: Testimony, **given: Any) -> dict[str, Any]:
    approve_form = given.get("approve_form") or ApproveForm(prefix="approve", formdata=None)
    if "approve_form" not in given:
        approve_form.public_text.data = testimony.public_text or (
            suggest_redaction(testimony.original_text, _place_names()) if testimony.original_text else ""
        )
    tag_form = given.get("tag_form") or TagForm(prefix="tag", formdata=None)
    if "tag_form" not in given:
        tag_form.topics.data = list(testimony.topics or [])
    approve_form.version.data = testimony.version
    reject_form = given.get("reject_form") or RejectForm(prefix="reject", formdata=None)
    reject_form.version.data = testimony.version
    return {
        "approve_form": approve_form,
        "reject_form": reject_form,
        "question_form": given.get("question_form") or QuestionForm(prefix="ask", formdata=None),
        "tag_form": tag_form,
    }


def _place_names() -> list[str]:
    names = []
    for region in regions_for_choices():
        names.append(region.name)
        names.extend(unit.name for unit in region.units)
    return names


def _detail_page(testimony: Testimony, status_code: int = 200, **given: Any):
    marked = segments(testimony.original_text, _place_names()) if testimony.original_text else []
    return render_template(
        "testimonies/detail.html",
        testimony=testimony,
        marked=marked,
        kinds=KIND_LABELS,
        found_kinds=sorted({kind for _text, kind in marked if kind}),
        retention_period=svc.retention_period(),
        quoted_as=str(shown_attribution(testimony)) if testimony.is_approved else None,
        **_moderation_forms(testimony, **given),
    ), status_code


@bp.route("/testimonies/<reference>")
@moderators_only
def detail(reference: str):
    return _detail_page(svc.view_testimony(current_user, reference))


def _moderate(
    reference: str,
    form: ApproveForm | RejectForm | QuestionForm | TagForm,
    form_key: str,
    field: str,
    action: Callable[[Testimony, Any], object],
    success: str,
):
    """Validate one moderation form and run its service; a refusal is shown beside ``field``."""
    testimony = svc.get_testimony_for(current_user, reference)
    if not form.validate_on_submit():
        return _detail_page(testimony, 400, **{form_key: form})
    with errors_on(form, field) as outcome:
        action(testimony, form)
        flash(gettext(success, ref=testimony.reference), "success")
        return redirect(url_for("testimonies.detail", reference=testimony.reference))
    testimony = svc.get_testimony_for(current_user, reference)
    conflict = outcome.conflict
    if isinstance(conflict, svc.StaleTestimony):
        # A decision made on an old page is told above the page, and what was typed is kept.
        typed = getattr(form, field)
        typed.errors = [error for error in typed.errors if error != conflict.message]
        flash(conflict.message, "warning")
        return _detail_page(testimony, 409, **{form_key: form})
    if conflict is not None:  # saved by someone else in the same instant: start from the new state
        flash(str(SAME_MOMENT_MESSAGE), "warning")
        return _detail_page(testimony, 409)
    return _detail_page(testimony, 400, **{form_key: form})


@bp.route("/testimonies/<reference>/approve", methods=["POST"])
@moderators_only
def approve(reference: str):
    return _moderate(
        reference,
        ApproveForm(prefix="approve"),
        "approve_form",
        "public_text",
        lambda t, f: svc.approve(current_user, t, f.public_text.data, version=f.version.data),
        N_("%(ref)s is approved. Only its public text can be quoted, and only where the member agreed."),
    )


@bp.route("/testimonies/<reference>/reject", methods=["POST"])
@moderators_only
def reject(reference: str):
    return _moderate(
        reference,
        RejectForm(prefix="reject"),
        "reject_form",
        "reason",
        lambda t, f: svc.reject(current_user, t, f.reason.data, version=f.version.data),
        N_("%(ref)s is rejected. The member will see that it was read but not used."),
    )


@bp.route("/testimonies/<reference>/question", methods=["POST"])
@moderators_only
def ask(reference: str):
    return _moderate(
        reference,
        QuestionForm(prefix="ask"),
        "question_form",
        "question",
        lambda t, f: svc.ask_follow_up(current_user, t, f.question.data),
        N_("Your question is waiting for the member of %(ref)s."),
    )


@bp.route("/testimonies/<reference>/topics", methods=["POST"])
@moderators_only
def tag(reference: str):
    return _moderate(
        reference,
        TagForm(prefix="tag"),
        "tag_form",
        "topics",
        lambda t, f: svc.tag_topics(current_user, t, f.topics.data or []),
        N_("Topics of %(ref)s saved."),
    )
