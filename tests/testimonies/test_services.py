"""The rules: receipt codes, consent, moderation, withdrawal, erasure, lists and demo data."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.evidence.services import resolve_links
from napo_tracker.extensions import db
from napo_tracker.kernel import clock
from napo_tracker.testimonies import demo, services
from napo_tracker.testimonies.models import FollowUp, Testimony

from .. import factories
from .conftest import LONG_ENOUGH


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_receipt_codes_are_long_grouped_and_without_look_alikes():
    codes = {services.new_receipt_code() for _ in range(200)}
    assert len(codes) == 200
    bits = services.RECEIPT_LENGTH * math.log2(len(services.RECEIPT_ALPHABET))
    assert bits >= 80
    for code in codes:
        assert re.fullmatch(r"[2-9A-Z]{4}(-[2-9A-Z]{4}){4}", code)
        assert not set(code) & set("01ILOU")


def test_codes_are_stored_only_as_a_keyed_hash_and_found_however_typed(app):
    import hashlib

    testimony, code = factories.make_testimony_with_code()
    symbols = code.replace("-", "")
    assert testimony.receipt_hash == services.receipt_hash(code)
    assert symbols not in testimony.receipt_hash
    assert testimony.receipt_hash != hashlib.sha256(symbols.encode()).hexdigest()  # keyed, not a bare hash

    sloppy = " " + code.lower().replace("-", " ") + "\n"
    found = services.find_by_code(sloppy)
    assert found is not None and found.id == testimony.id
    assert services.find_by_code(code[:-1] + ("2" if code[-1] != "2" else "3")) is None
    assert services.find_by_code("") is None
    assert services.find_by_code("O" * 20) is None

    app.config["TESTIMONY_RECEIPT_KEY"] = "another key entirely, long and random"
    assert services.receipt_hash(code) != testimony.receipt_hash
    assert services.find_by_code(code) is None


def test_submission_keeps_the_day_only_and_a_random_reference(world):
    testimony = factories.make_testimony(
        region=world.wales, grade="NQO", service_band="under_2", topics=["workload", "workload", "pay"]
    )
    assert isinstance(testimony.submitted_on, date)
    # Issue 12 item 8: random and readable aloud (TST-XXXX-XXXX), not numbered from the id.
    assert re.fullmatch(r"TST-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}", testimony.reference)
    assert testimony.topics == ["workload", "pay"]
    assert testimony.status == "submitted"
    assert not [a for a in _actions() if a.startswith("testimony:")]  # members' acts leave no timed trace


def test_a_random_reference_already_taken_is_drawn_again(world, monkeypatch):
    first = factories.make_testimony()
    draws = iter([first.reference, first.reference, "TST-ABCD-EFGH"])
    monkeypatch.setattr(services, "random_reference", lambda prefix: next(draws))
    second = factories.make_testimony()
    assert second.reference == "TST-ABCD-EFGH" and first.reference != second.reference


def test_references_made_before_they_were_random_still_work(client, world, login_as):
    old = factories.make_testimony(public_text=LONG_ENOUGH, approved_by=world.official)
    old.reference = "TST-2026-0013"
    db.session.commit()
    login_as(world.official)
    for typed in ("TST-2026-0013", "tst-2026-0013"):
        page = client.get(f"/testimonies/{typed}")
        assert page.status_code == 200 and "TST-2026-0013" in page.get_data(as_text=True)
    assert resolve_links(world.official, testimony_reference="TST-2026-0013")["testimony_id"] == old.id
    assert client.get("/testimonies/TST-2026-0014").status_code == 404


def test_submission_refuses_bad_values_and_stores_nothing(app):
    refused: list[tuple[dict[str, Any], str]] = [
        ({"text": "too short"}, "between 20"),
        ({"text": "x" * 20_001}, "between 20"),
        ({"grade": "CEO"}, "grade"),
        ({"service_band": "forever"}, "length of service"),
        ({"topics": ["gossip"]}, "topics"),
        ({"region_id": 999_999}, "region"),
    ]
    for fields, message in refused:
        with pytest.raises(services.TestimonyError, match=message):
            services.submit_testimony(**{"text": LONG_ENOUGH, **fields})
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Testimony)) == 0


CONSENT_CASES = [
    # status, mps, press -> may quote to mps, to press
    ("approved", True, True, True, True),
    ("approved", True, False, True, False),
    ("approved", False, True, False, True),
    ("approved", False, False, False, False),
    ("submitted", True, True, False, False),
    ("rejected", True, True, False, False),
    ("withdrawn", True, True, False, False),
]


def test_consent_rule(world):
    made = []
    for status, mps, press, expect_mps, expect_press in CONSENT_CASES:
        testimony = factories.make_testimony(mps=mps, press=press)
        if status in ("approved", "withdrawn"):
            services.approve(world.official, testimony, LONG_ENOUGH)
        if status == "rejected":
            services.reject(world.official, testimony, "not about workload")
        if status == "withdrawn":
            services.withdraw(testimony)
        made.append((testimony, expect_mps, expect_press))
    db.session.commit()
    found = {
        audience: set(db.session.scalars(services.quotable_testimonies(audience))) for audience in ("mps", "press")
    }
    for testimony, expect_mps, expect_press in made:
        assert testimony.may_quote_to("mps") is expect_mps
        assert testimony.may_quote_to("press") is expect_press
        # The query and the method agree, case by case.
        assert (testimony in found["mps"]) is expect_mps
        assert (testimony in found["press"]) is expect_press
    with pytest.raises(ValueError):
        made[0][0].may_quote_to("everyone")
    with pytest.raises(ValueError):
        services.quotable_testimonies("everyone")


def test_withdrawal_erases_every_word_and_takes_effect_at_once(world):
    testimony = factories.make_testimony(mps=True, press=True, approved_by=world.official)
    follow_up = services.ask_follow_up(world.official, testimony, "How many cases?")
    services.answer_follow_up(testimony, follow_up.id, "About seventy, half of them high risk.")
    db.session.commit()
    assert testimony in db.session.scalars(services.quotable_testimonies("press")).all()

    services.withdraw(testimony)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get_one(Testimony, testimony.id)
    assert stored.status == "withdrawn" and stored.withdrawn_on is not None
    assert stored.original_text is None and stored.public_text is None
    assert db.session.get_one(FollowUp, follow_up.id).answer is None
    assert db.session.scalars(services.quotable_testimonies("press")).all() == []
    assert db.session.scalars(services.quotable_testimonies("mps")).all() == []
    with pytest.raises(services.TestimonyError, match="already withdrawn"):
        services.withdraw(stored)
    with pytest.raises(services.TestimonyError, match="withdrawn"):
        services.approve(world.official, stored, LONG_ENOUGH)


def test_official_actions_are_audited_without_text(world):
    testimony = factories.make_testimony()
    services.ask_follow_up(world.official, testimony, "Which grade are you?")
    services.tag_topics(world.official, testimony, ["risk"])
    services.approve(world.official, testimony, "A redacted version of what the member said.")
    services.reject(world.official, testimony, "Changed my mind")
    db.session.commit()
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("testimony:%")).order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == [
        AuditAction.TESTIMONY_QUESTION_ASKED,
        AuditAction.TESTIMONY_TAGGED,
        AuditAction.TESTIMONY_APPROVED,
        AuditAction.TESTIMONY_REJECTED,
    ]
    assert all(e.actor_id == world.official.id and e.target_ref == testimony.reference for e in events)
    assert "redacted version" not in str([e.details for e in events])
    assert testimony.public_text is None  # rejecting drops the public text


def test_moderation_rules(world):
    testimony = factories.make_testimony()
    # A public text may not hold contact details.
    for text in ("Call me on 07700 900123 about the caseload please.", "Write to me at someone@example.org today."):
        with pytest.raises(services.TestimonyError, match="email address or phone"):
            services.approve(world.official, testimony, text)
    assert testimony.status == "submitted"

    # Answers go to open questions only, once.
    follow_up = services.ask_follow_up(world.official, testimony, "When did this start?")
    services.answer_follow_up(testimony, follow_up.id, "Since the spring, when two colleagues left.")
    with pytest.raises(services.TestimonyError, match="already been answered"):
        services.answer_follow_up(testimony, follow_up.id, "And a second answer to the same question.")
    with pytest.raises(services.TestimonyError):
        services.answer_follow_up(testimony, 999_999, "An answer to a question that does not exist.")
    db.session.commit()

    # A decision made on an old page is refused.
    seen = testimony.version
    services.approve(world.official, testimony, LONG_ENOUGH, version=seen)
    db.session.commit()
    with pytest.raises(services.StaleTestimony):
        services.reject(world.official, testimony, "too late", version=seen)


def test_originals_are_erased_after_the_retention_period(world, app):
    today = date(2026, 11, 24)
    old = factories.make_testimony("An original that has been kept long enough now.")
    fresh = factories.make_testimony("An original decided only a few days ago, still kept.")
    undecided = factories.make_testimony("An original still waiting for a decision by anyone.")
    services.approve(world.official, old, "A public version of the first one.", today=today - timedelta(days=30))
    services.reject(world.official, fresh, "not needed", today=today - timedelta(days=29))
    db.session.commit()

    due = services.originals_due_for_erasure(today)
    assert due == [old]
    assert set(services.originals_due_for_erasure(today, days=10)) == {old, fresh}
    assert undecided not in services.originals_due_for_erasure(today, days=10)

    # An answer given after the original was erased is erased at the next run too.
    services.erase_original(None, old, today)
    follow_up = services.ask_follow_up(world.official, old, "One more thing: which grade?")
    services.answer_follow_up(old, follow_up.id, "A PSO, for six years.")
    db.session.commit()
    assert old in services.originals_due_for_erasure(today)
    services.erase_original(None, old, today)
    assert follow_up.answer is None and old not in services.originals_due_for_erasure(today)


def test_purge_command_erases_due_originals_and_keeps_public_text(app, world):
    testimony = factories.make_testimony()
    services.approve(
        world.official,
        testimony,
        "The public version stays after the purge.",
        today=clock.today() - timedelta(days=31),
    )
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["testimonies", "purge", "--dry-run"])
    assert result.exit_code == 0 and "1 original(s)" in result.output
    assert db.session.get_one(Testimony, testimony.id).original_text is not None

    result = runner.invoke(args=["testimonies", "purge"])
    assert result.exit_code == 0, result.output
    assert "Erased 1 original(s)" in result.output
    db.session.expire_all()
    stored = db.session.get_one(Testimony, testimony.id)
    assert stored.original_text is None and stored.original_erased_on is not None
    assert stored.public_text == "The public version stays after the purge."
    assert AuditAction.TESTIMONY_ORIGINAL_ERASED in _actions()
    assert "Erased 0" in runner.invoke(args=["testimonies", "purge"]).output


def test_filters_by_status_region_grade_topic_and_consent(world):
    a = factories.make_testimony(region=world.london, grade="PO", topics=["workload", "pay"], mps=True)
    b = factories.make_testimony(region=world.wales, grade="PSO", topics=["pay"], press=True)
    c = factories.make_testimony(topics=["other"])
    services.approve(world.official, a, LONG_ENOUGH)
    db.session.commit()

    def refs(**kwargs):
        stmt = services.filtered_testimonies(services.TestimonyFilters(**kwargs))
        return {t.reference for t in db.session.scalars(stmt)}

    assert refs() == {a.reference, b.reference, c.reference}
    assert refs(status="approved") == {a.reference}
    assert refs(region_id=world.wales.id) == {b.reference}
    assert refs(grade="PO") == {a.reference}
    assert refs(topic="pay") == {a.reference, b.reference}
    assert refs(topic="workload") == {a.reference}
    assert refs(consent="press") == {b.reference}
    assert refs(consent="none") == {c.reference}


def test_export_rows_hold_only_quotable_public_texts(world):
    quotable = factories.make_testimony(
        '=HYPERLINK("http://evil") is what they wrote', mps=False, press=True, approved_by=world.official
    )
    factories.make_testimony(mps=False, press=False, approved_by=world.official)
    factories.make_testimony()
    rows = list(
        services.export_rows(db.session.scalars(services.filtered_testimonies(services.TestimonyFilters())).all())
    )
    assert [row[0] for row in rows] == [quotable.reference]
    assert rows[0][6:8] == (False, True)
    assert LONG_ENOUGH not in str(rows)


def test_demo_data_loads_once_in_every_state(world):
    from napo_tracker.accounts.services import create_user

    create_user(
        None, email=demo.DEMO_OFFICIAL, display_name="Demo official", role="official", password="a long enough password"
    )
    lines: list[str] = []
    demo.load(lines.append)
    db.session.commit()
    count = db.session.scalar(select(func.count()).select_from(Testimony))
    assert count == len(demo.DEMO_TESTIMONIES) >= 12
    demo.load(lines.append)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Testimony)) == count
    assert set(services.status_counts()) == {"submitted", "approved", "rejected", "withdrawn"}
    with_question = services.find_by_code(demo.demo_code(3))
    assert with_question is not None and with_question.open_follow_ups
    assert db.session.scalars(services.quotable_testimonies("mps")).all()
    assert db.session.scalars(services.quotable_testimonies("press")).all()
