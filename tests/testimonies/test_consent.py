"""The one consent rule, in Python and in SQL alike: approved, with a public text that is not
empty, and the member's yes for that audience. Each condition is tested on its own."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from napo_tracker.extensions import db
from napo_tracker.testimonies.models import Testimony
from napo_tracker.testimonies.services import quotable_testimonies

from .. import factories

WORDS = "My caseload doubled and nobody covers leave in my team any more."


def _quotable(audience: str) -> set[int]:
    return {t.id for t in db.session.scalars(quotable_testimonies(audience))}


def _check(testimony: Testimony, mps: bool, press: bool) -> None:
    """The instance rule and the SQL rule give the same answer."""
    assert testimony.may_quote_to("mps") is mps and (testimony.id in _quotable("mps")) is mps
    assert testimony.may_quote_to("press") is press and (testimony.id in _quotable("press")) is press


@pytest.mark.parametrize("mps, press", [(True, False), (False, True), (True, True), (False, False)])
def test_each_audience_needs_its_own_yes(world, mps, press):
    testimony = factories.make_testimony(WORDS, mps=mps, press=press, approved_by=world.official)
    _check(testimony, mps, press)


def test_a_testimony_not_approved_is_never_quoted(world):
    waiting = factories.make_testimony(WORDS, mps=True, press=True)
    _check(waiting, False, False)
    rejected = factories.make_testimony(WORDS, mps=True, press=True, approved_by=world.official)
    rejected.status = "rejected"
    db.session.commit()
    _check(rejected, False, False)


@pytest.mark.parametrize("public_text", [None, ""])
def test_an_approved_testimony_without_a_public_text_is_never_quoted(world, public_text):
    testimony = factories.make_testimony(WORDS, mps=True, press=True, approved_by=world.official)
    testimony.public_text = public_text
    db.session.commit()
    _check(testimony, False, False)
    assert db.session.scalars(select(Testimony)).all() == [testimony]


def test_an_unknown_audience_is_a_programming_error(world):
    testimony = factories.make_testimony(WORDS, mps=True, approved_by=world.official)
    with pytest.raises(ValueError):
        testimony.may_quote_to("everyone")


def test_quotable_testimonies_come_newest_first_and_the_later_of_one_day_first(world):
    """The pickers and exports list the freshest words first; two sent the same day, the later
    sent first (their id), so the order never changes between two looks."""
    from datetime import date

    sent_on = [date(2026, 3, 1), date(2026, 3, 3), date(2026, 3, 1), date(2026, 3, 2)]
    testimonies = [factories.make_testimony(WORDS, mps=True, approved_by=world.official) for _ in sent_on]
    for testimony, day in zip(testimonies, sent_on, strict=True):
        testimony.submitted_on = day
    db.session.commit()
    first, third, second_of_first_day, fourth = testimonies
    assert list(db.session.scalars(quotable_testimonies("mps"))) == [third, fourth, second_of_first_day, first]
