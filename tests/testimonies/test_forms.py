"""The testimony forms alone: what each accepts, what it refuses, and in which words.

Each form is built inside a request context from a ``MultiDict``, CSRF off; the region
choices are plain pairs, so no record is needed.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from napo_tracker.testimonies.forms import UNKNOWN_CODE, AnswerForm, StatusForm, TestimonyForm, WithdrawForm
from napo_tracker.testimonies.moderation_forms import ApproveForm, FilterForm, QuestionForm, RejectForm, TagForm
from napo_tracker.testimonies.services import new_receipt_code

from .conftest import LONG_ENOUGH

OFF = {"csrf": False}
REGIONS = [("1", "London"), ("2", "Wales")]


def _form(app: Flask, form_class: type[FlaskForm], data: dict[str, Any], **kwargs: Any) -> Any:
    with app.test_request_context(method="POST"):
        form = form_class(formdata=MultiDict(data), meta=OFF, **kwargs)
        form.validate()
        return form


# ---------------------------------------------------------------- the member's forms


def _testimony_form(app: Flask, **data: Any) -> TestimonyForm:
    values = {"text": LONG_ENOUGH, "region": "", "grade": "", "service_band": ""} | data
    return _form(app, TestimonyForm, values, region_choices=REGIONS)


def test_a_testimony_with_every_optional_fact(app):
    form = _testimony_form(
        app,
        text=f"  {LONG_ENOUGH}\n",
        region="2",
        grade="other",
        service_band="5_10",
        topics=["workload", "pay"],
        has_mps_consent="y",
    )
    assert form.errors == {}
    assert form.text.data == LONG_ENOUGH  # trimmed
    assert (form.region.data, form.grade.data, form.service_band.data) == ("2", "other", "5_10")
    assert form.topics.data == ["workload", "pay"]
    assert form.has_mps_consent.data is True and form.has_press_consent.data is False
    assert not form.is_bot


def test_a_testimony_with_nothing_but_the_text(app):
    form = _testimony_form(app)
    assert form.errors == {}
    assert not (form.region.data or form.grade.data or form.service_band.data or form.topics.data)


def test_every_grade_of_the_union_is_offered_and_another_role(app):
    form = _testimony_form(app)
    offered = [value for value, *_rest in form.grade.iter_choices()]
    assert offered == ["", "PO", "PSO", "PQiP", "NQO", "SPO", "admin", "court", "family_court", "other"]


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("text", "", "Please write what you want to tell us."),
        ("text", "Too busy.", "between 20 and 20,000"),
        ("text", "a" * 20_001, "between 20 and 20,000"),
        ("text", "My caseload is\x00 far too high for anyone.", "characters we cannot accept"),
        ("text", "My caseload is \u202e far too high for anyone.", "characters we cannot accept"),
        ("region", "3", "Choose a region from the list."),
        ("grade", "Chief Executive", "Choose a grade from the list."),
        ("service_band", "100 years", "Choose a length of service from the list."),
        ("topics", ["workload", "gossip"], "Choose only from the list."),
    ],
)
def test_a_testimony_form_refuses(app, field, value, message):
    form = _testimony_form(app, **{field: value})
    assert any(message in error for error in form.errors[field])


def test_the_honeypot_marks_a_bot(app):
    assert _testimony_form(app, website="http://spam.example").is_bot


def test_a_receipt_code_is_accepted_however_it_is_typed(app):
    code = new_receipt_code()
    for typed in (code, code.lower(), code.replace("-", " "), f"  {code}  "):
        assert _form(app, StatusForm, {"code": typed}).errors == {}, typed


@pytest.mark.parametrize(
    "code, message",
    [
        ("", "Please enter your receipt code."),
        ("ABCD", UNKNOWN_CODE),
        ("O" * 20, UNKNOWN_CODE),  # look-alike letters are never in a code
        ("A" * 101, UNKNOWN_CODE),
    ],
)
def test_a_status_form_refuses(app, code, message):
    assert set(_form(app, StatusForm, {"code": code}).errors["code"]) == {message}


def test_an_answer_form(app):
    code = new_receipt_code()
    good = _form(app, AnswerForm, {"code": code, "follow_up_id": "4", "answer": "About 70"})
    assert good.errors == {} and good.follow_up_id.data == 4 and good.answer.data == "About 70"

    bad = _form(app, AnswerForm, {"code": "nonsense", "follow_up_id": "four", "answer": "x"})
    assert bad.errors["code"] == [UNKNOWN_CODE]
    assert "follow_up_id" in bad.errors
    assert any("between 2 and 20,000" in error for error in bad.errors["answer"])
    assert _form(app, AnswerForm, {"code": code, "follow_up_id": "4"}).errors["answer"] == ["Please write your answer."]


def test_a_withdraw_form_needs_the_box_ticked(app):
    code = new_receipt_code()
    assert _form(app, WithdrawForm, {"code": code, "confirm": "y"}).errors == {}
    assert _form(app, WithdrawForm, {"code": code}).errors == {"confirm": ["Tick the box to confirm."]}
    assert _form(app, WithdrawForm, {"code": "", "confirm": "y"}).errors == {"code": [UNKNOWN_CODE]}


# ---------------------------------------------------------------- the officials' forms


def test_an_approve_form_carries_the_version(app):
    form = _form(app, ApproveForm, {"public_text": LONG_ENOUGH, "version": "3"})
    assert form.errors == {} and form.version.data == 3
    no_version = _form(app, ApproveForm, {"public_text": LONG_ENOUGH})
    assert no_version.errors == {} and no_version.version.data is None


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"public_text": ""}, "public_text", "Write the public text."),
        ({"public_text": "short"}, "public_text", "between 20 and 20,000"),
        ({"public_text": LONG_ENOUGH + "\x07"}, "public_text", "characters we cannot accept"),
        ({"public_text": LONG_ENOUGH, "version": "2; DROP TABLE"}, "version", "out of date"),
        ({"public_text": LONG_ENOUGH, "version": "-1"}, "version", "out of date"),
    ],
)
def test_an_approve_form_refuses(app, data, field, message):
    form = _form(app, ApproveForm, data)
    assert any(message in error for error in form.errors[field])


def test_a_reject_form(app):
    form = _form(app, RejectForm, {"reason": "  Names a colleague throughout ", "version": "1"})
    assert form.errors == {} and form.reason.data == "Names a colleague throughout" and form.version.data == 1
    assert _form(app, RejectForm, {"reason": "   "}).errors == {"reason": ["Give a reason for the record."]}
    assert "reason" in _form(app, RejectForm, {"reason": "x" * 2_001}).errors
    assert "version" in _form(app, RejectForm, {"reason": "Off topic", "version": "v2"}).errors


def test_a_question_form(app):
    assert _form(app, QuestionForm, {"question": "Is this still happening?"}).errors == {}
    assert _form(app, QuestionForm, {"question": ""}).errors == {"question": ["Write the question."]}
    assert "question" in _form(app, QuestionForm, {"question": "Why"}).errors
    assert "question" in _form(app, QuestionForm, {"question": "Which office\u202e is it?"}).errors


def test_a_tag_form_takes_topics_from_the_list_only(app):
    good = _form(app, TagForm, {"topics": ["risk", "pay"]})
    assert good.errors == {} and good.topics.data == ["risk", "pay"]
    assert _form(app, TagForm, {}).errors == {}  # no topic at all is allowed
    assert _form(app, TagForm, {"topics": ["risk", "nonsense"]}).errors == {"topics": ["Choose only from the list."]}


def test_a_filter_form_ignores_forged_values(app):
    with app.test_request_context("/testimonies/"):
        good = FilterForm(
            formdata=MultiDict(
                {"status": "approved", "region": "2", "grade": "PSO", "topic": "pay", "consent": "none"}
            ),
            region_choices=REGIONS,
        )
        assert [good.cleaned(f) for f in (good.status, good.region, good.grade, good.topic, good.consent)] == [
            "approved",
            "2",
            "PSO",
            "pay",
            "none",
        ]
        forged = FilterForm(
            formdata=MultiDict({"status": "<script>", "region": "abc", "grade": "x", "topic": "y", "consent": "z"}),
            region_choices=REGIONS,
        )
        assert [forged.cleaned(f) for f in (forged.status, forged.region, forged.grade, forged.topic)] == [""] * 4
        assert forged.cleaned(forged.consent) == ""
        assert [value for value, *_rest in forged.consent.iter_choices()] == ["", "mps", "press", "none"]
