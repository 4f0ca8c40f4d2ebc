"""The briefing composer's forms alone: good input gives plain values, bad input is refused next to its field.

Each form is built inside a request context from a ``MultiDict``, CSRF off; the choices a view
would load from the database are given as plain pairs, so no record is needed.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from napo_tracker.briefings.forms import (
    AddQuestionForm,
    BriefingForm,
    ChartForm,
    CiteForm,
    ConfirmChangeForm,
    EvidenceFilterForm,
    QuestionForm,
    RegionalForm,
    RewordForm,
    SectionForm,
    TestimonyPickForm,
)
from napo_tracker.kernel.clock import today

OFF = {"csrf": False}
METRICS = [("wmt_percent_avg", "Average WMT"), ("vacancies", "Vacancies")]
REGIONS = [(1, "London"), (2, "Wales")]
STALE_FORM = "This form is out of date. Reload the page and try again."


def _submitted(app, form_class: type[FlaskForm], data: dict[str, Any], **kwargs: Any) -> Any:
    """The form as a POST of ``data`` fills it, validated."""
    formdata: MultiDict[str, Any] = MultiDict()
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            formdata.add(key, item)
    with app.test_request_context(method="POST"):
        form = form_class(formdata=formdata, meta=OFF, **kwargs)
        form.validate()
        return form


def offered(field: Any) -> list[str]:
    """The values a select field offers, in order."""
    return [str(value) for value, *_rest in field.iter_choices()]


# ---------------------------------------------------------------- BriefingForm

BRIEFING = {
    "title": "Staffing crisis",
    "subtitle": "A briefing for parliamentarians",
    "audience": "press",
    "dated_on": "2026-11-20",
    "signatory_name": " Jo Official ",
    "signatory_title": "National Official",
    "expected_version": "3",
}


def test_a_good_briefing_form_gives_plain_values(app):
    form = _submitted(app, BriefingForm, BRIEFING)
    assert form.errors == {}
    assert form.title.data == "Staffing crisis" and form.audience.data == "press"
    assert form.dated_on.data.isoformat() == "2026-11-20"
    assert form.signatory_name.data == "Jo Official"  # trimmed
    assert form.expected_version.data == 3


def test_a_new_briefing_form_is_dated_today_and_offers_every_audience(app):
    with app.test_request_context():
        form = BriefingForm(meta=OFF)
    assert form.dated_on.data == today()
    assert offered(form.audience) == ["mps", "press", "members", "employer"]
    assert next(iter(form.audience.iter_choices()))[1] == "MPs and peers"


def test_bad_briefing_input_is_refused_next_to_its_field(app):
    form = _submitted(
        app,
        BriefingForm,
        BRIEFING | {"title": "", "audience": "nobody", "dated_on": "not a date", "expected_version": "3; drop"},
    )
    assert form.errors["title"] == ["This field is required."]
    assert form.errors["audience"] == ["Not a valid choice."]
    assert form.errors["dated_on"] == ["Not a valid date value."]
    assert form.errors["expected_version"] == [STALE_FORM]
    hostile = _submitted(app, BriefingForm, BRIEFING | {"title": "Bad\u202etitle", "dated_on": "1999-12-31"})
    assert "characters we cannot accept" in hostile.errors["title"][0]
    assert hostile.errors["dated_on"] == ["Give a date between 2000 and 2099."]
    long = _submitted(app, BriefingForm, BRIEFING | {"signatory_name": "x" * 121})
    assert long.errors == {"signatory_name": ["Field cannot be longer than 120 characters."]}


# ---------------------------------------------------------------- SectionForm


def test_a_good_section_form(app):
    form = _submitted(app, SectionForm, {"kind": "risks", "heading": " Risks ", "body": "Risk **rises**.\n\n- one"})
    assert form.errors == {}
    assert (form.kind.data, form.heading.data, form.body.data) == ("risks", "Risks", "Risk **rises**.\n\n- one")
    assert form.expected_version.data is None  # no version sent: no check is asked for


def test_a_section_body_is_held_to_the_services_limits(app):
    too_big = _submitted(app, SectionForm, {"kind": "free", "body": "x" * 20_001})
    assert too_big.errors["body"] == [
        "This section is 20,001 characters long; a section may be at most 20,000. Split it into several sections."
    ]
    deep = _submitted(app, SectionForm, {"kind": "free", "body": "- " * 400 + "deep"})
    assert deep.errors["body"] == ["Lists and quotes may be nested at most 12 levels deep."]
    odd = _submitted(app, SectionForm, {"kind": "poem", "heading": "h" * 201, "body": "bell\x07"})
    assert odd.errors["kind"] == ["Not a valid choice."]
    assert odd.errors["heading"] == ["Field cannot be longer than 200 characters."]
    assert "characters we cannot accept" in odd.errors["body"][0]


# ---------------------------------------------------------------- ChartForm


def test_a_chart_form_takes_a_metric_and_regions_from_its_lists(app):
    form = _submitted(
        app,
        ChartForm,
        {"metric_code": "wmt_percent_avg", "region_ids": ["1", "2"], "since_on": "2020-01-01"},
        metric_choices=METRICS,
        region_choices=REGIONS,
    )
    assert form.errors == {}
    assert form.metric_code.data == "wmt_percent_avg" and form.region_ids.data == [1, 2]
    no_chart = _submitted(app, ChartForm, {"metric_code": ""}, metric_choices=METRICS, region_choices=REGIONS)
    assert no_chart.errors == {} and no_chart.region_ids.data == []


def test_a_chart_form_refuses_what_its_lists_do_not_offer(app):
    form = _submitted(
        app,
        ChartForm,
        {"metric_code": "no_such_metric", "region_ids": ["9999"], "since_on": "soon"},
        metric_choices=METRICS,
        region_choices=REGIONS,
    )
    assert form.errors["metric_code"] == ["Choose a metric from the list."]
    assert form.errors["region_ids"] == ["Choose regions from the list."]
    assert form.errors["since_on"] == ["Not a valid date value."]
    many = [(i, f"Region {i}") for i in range(1, 14)]
    crowded = _submitted(
        app,
        ChartForm,
        {"metric_code": "vacancies", "region_ids": [str(i) for i in range(1, 14)]},
        metric_choices=METRICS,
        region_choices=many,
    )
    assert crowded.errors == {"region_ids": ["A chart can compare at most 12 regions."]}


# ---------------------------------------------------------------- EvidenceFilterForm


def test_the_evidence_filters_offer_national_and_every_region(app):
    with app.test_request_context():
        form = EvidenceFilterForm(MultiDict({"region": "0", "verified_only": "y"}), metric_choices=METRICS)
        assert form.validate()
    assert offered(form.region) == ["", "0"]
    assert offered(form.metric) == ["", "wmt_percent_avg", "vacancies"]
    assert form.region.data == "0" and form.verified_only.data is True


def test_bad_evidence_filters_are_flagged_not_fatal(app):
    with app.test_request_context():
        form = EvidenceFilterForm(
            MultiDict({"region": "abc", "metric": "\x00", "since_on": "yesterday"}),
            metric_choices=METRICS,
            region_choices=REGIONS,
        )
        assert not form.validate()
    # the picker ignores choices it does not offer; only the date is an error to show
    assert form.errors == {"since_on": ["Not a valid date value."]}
    assert offered(form.region) == ["", "0", "1", "2"]


# ---------------------------------------------------------------- CiteForm


def test_a_cite_form_names_an_item_and_a_section(app):
    form = _submitted(app, CiteForm, {"evidence_reference": "EV-0001", "section_id": "4", "expected_version": "2"})
    assert form.errors == {}
    assert (form.evidence_reference.data, form.section_id.data, form.expected_version.data) == ("EV-0001", 4, 2)


def test_a_cite_form_refuses_a_missing_or_hostile_reference(app):
    empty = _submitted(app, CiteForm, {"evidence_reference": "", "section_id": "4"})
    assert empty.errors["evidence_reference"] == ["This field is required."]
    nul = _submitted(app, CiteForm, {"evidence_reference": "EV-\x00", "section_id": "4"})
    assert "characters we cannot accept" in nul.errors["evidence_reference"][0]
    long = _submitted(app, CiteForm, {"evidence_reference": "EV-" + "9" * 20, "section_id": "x"})
    assert long.errors["evidence_reference"] == ["Field cannot be longer than 16 characters."]
    assert "section_id" in long.errors


# ---------------------------------------------------------------- RegionalForm


def test_the_regional_form_needs_regions_from_its_list(app):
    good = _submitted(app, RegionalForm, {"region_ids": ["2"]}, region_choices=REGIONS)
    assert good.errors == {} and good.region_ids.data == [2]
    none = _submitted(app, RegionalForm, {}, region_choices=REGIONS)
    assert none.errors == {"region_ids": ["Choose at least one region."]}
    forged = _submitted(app, RegionalForm, {"region_ids": ["9999"]}, region_choices=REGIONS)
    assert forged.errors == {"region_ids": ["Choose regions from the list."]}


# ---------------------------------------------------------------- TestimonyPickForm


def test_the_testimony_picker_bounds_the_choice(app):
    good = _submitted(app, TestimonyPickForm, {"testimony_ids": ["3", "1"]})
    assert good.errors == {} and good.testimony_ids.data == [3, 1]
    nothing = _submitted(app, TestimonyPickForm, {})
    assert nothing.errors == {} and nothing.testimony_ids.data == []  # quoting nobody is a choice too
    many = _submitted(app, TestimonyPickForm, {"testimony_ids": [str(i) for i in range(1, 5001)]})
    assert many.errors == {"testimony_ids": ["A briefing may quote at most 30 testimonies; you chose 5,000."]}


# ---------------------------------------------------------------- AddQuestionForm and RewordForm


def test_a_question_is_picked_from_the_bank_or_written(app):
    picked = _submitted(app, AddQuestionForm, {"question_id": "7"})
    assert picked.errors == {} and picked.question_id.data == 7
    written = _submitted(app, AddQuestionForm, {"text": " Who answers for SFOs? "})
    assert written.errors == {} and written.text.data == "Who answers for SFOs?"


def test_a_question_needs_one_of_the_two_and_a_sane_id(app):
    neither = _submitted(app, AddQuestionForm, {"text": "  "})
    assert neither.errors == {"text": ["Write a question, or pick one from the bank."]}
    huge = _submitted(app, AddQuestionForm, {"question_id": str(10**30)})
    assert "question_id" in huge.errors
    zero = _submitted(app, AddQuestionForm, {"question_id": "0", "text": "Why?"})
    assert zero.errors["question_id"] == ["Number must be between 1 and 2147483647."]


def test_rewording_needs_words(app):
    good = _submitted(app, RewordForm, {"text": "Will the Minister publish the review?", "expected_version": "5"})
    assert good.errors == {} and good.expected_version.data == 5
    blank = _submitted(app, RewordForm, {"text": "  "})
    assert blank.errors == {"text": ["This field is required."]}
    long = _submitted(app, RewordForm, {"text": "why " * 300})
    assert long.errors == {"text": ["Field cannot be longer than 1000 characters."]}


# ---------------------------------------------------------------- QuestionForm


def test_a_bank_question_form(app):
    good = _submitted(
        app, QuestionForm, {"text": "Will the Minister fund a staffing review?", "topics": "Staffing, review"}
    )
    assert good.errors == {} and good.topics.data == "Staffing, review" and good.is_archived.data is False
    archived = _submitted(app, QuestionForm, {"text": "Will the Minister fund a staffing review?", "is_archived": "y"})
    assert archived.is_archived.data is True
    short = _submitted(app, QuestionForm, {"text": "short", "topics": "a\x00b"})
    assert short.errors["text"] == ["Field must be between 10 and 1000 characters long."]
    assert "characters we cannot accept" in short.errors["topics"][0]


# ---------------------------------------------------------------- ConfirmChangeForm


def test_a_one_button_change_carries_the_briefing_version(app):
    good = _submitted(app, ConfirmChangeForm, {"expected_version": "12"})
    assert good.errors == {} and good.expected_version.data == 12
    unsent = _submitted(app, ConfirmChangeForm, {})
    assert unsent.errors == {} and unsent.expected_version.data is None
    tampered = _submitted(app, ConfirmChangeForm, {"expected_version": "-1"})
    assert tampered.errors == {"expected_version": [STALE_FORM]} and tampered.expected_version.data is None
