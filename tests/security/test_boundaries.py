"""Each rule's edge, from both sides: a deadline on its day and the day after, "due soon" at
three working days and four, small numbers at three people and two (through the API too), and
the retention period at its last day and the day after. (Working-day arithmetic itself, and the
session time-outs, are tested beside their code.)"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from napo_tracker.accounts.models import User
from napo_tracker.evidence.models import EvidenceItem
from napo_tracker.evidence.services import is_small_number, people_at_risk, shown_value
from napo_tracker.extensions import db
from napo_tracker.notices.models import ForeseeabilityNotice
from napo_tracker.notices.services import add_working_days, deadline_state
from napo_tracker.testimonies import services as testimonies
from napo_tracker.testimonies.models import Testimony


def _notice(scene) -> ForeseeabilityNotice:
    notice = db.session.scalars(
        select(ForeseeabilityNotice).where(ForeseeabilityNotice.reference == scene.notice_b)
    ).one()
    return notice


def test_a_response_is_due_ten_working_days_after_serving_and_overdue_only_after_that_day(app, scene):
    from napo_tracker.notices.services import serve_notice

    notice = _notice(scene)
    rep = db.session.get(User, scene.rep_b_id)
    served = date(2026, 3, 2)  # a Monday
    serve_notice(rep, notice, served, on=served)
    due = notice.response_due_on
    assert due == date(2026, 3, 16)  # ten working days: two whole weeks
    assert deadline_state(notice, on=due) == "due_soon"
    assert deadline_state(notice, on=due + timedelta(days=1)) == "overdue"
    # "due soon" from three working days before, not four
    assert deadline_state(notice, on=date(2026, 3, 11)) == "due_soon"  # Wed: Thu, Fri, Mon 16th
    assert deadline_state(notice, on=date(2026, 3, 10)) is None  # Tue: four working days ahead
    assert add_working_days(date(2026, 3, 10), 3) < due <= add_working_days(date(2026, 3, 10), 4)


@pytest.mark.parametrize("people, small", [(0, True), (1, True), (2, True), (3, False), (4, False), (None, False)])
def test_small_numbers_end_at_three_people(people, small):
    assert is_small_number(people) is small


def test_a_figure_built_from_items_is_withheld_on_the_two_sides_of_three():
    assert people_at_risk([1, 1]) == 2 and is_small_number(people_at_risk([1, 1]))
    assert people_at_risk([3]) is None  # three people's item is shown, and does not count


@pytest.mark.parametrize("reporters, withheld", [(2, True), (3, False)])
def test_the_page_and_the_api_withhold_a_figure_from_two_people_and_show_one_from_three(
    app, scene, visitor, reporters, withheld
):
    item = db.session.scalars(select(EvidenceItem).where(EvidenceItem.reference == scene.evidence_a)).one()
    item.reporter_count = reporters
    item.unit_id = scene.unit_id  # one unit's figure: a region's is never withheld (it hides the person)
    db.session.commit()
    official = db.session.get(User, scene.official_id)
    assert (shown_value(item, official) == "fewer than 3") is withheld
    visitor.become("official")
    api = visitor.client.get(f"/api/v1/evidence/{scene.evidence_a}").get_json()
    assert (api["value"] is None) is withheld, api
    page = visitor.client.get(f"/evidence/{scene.evidence_a}").get_data(as_text=True)
    assert ("fewer than 3" in page) is withheld


@pytest.mark.parametrize("age, erased", [(29, False), (30, True), (31, True)])
def test_an_original_is_kept_for_the_retention_period_and_no_longer(app, scene, age, erased):
    testimony = db.session.scalars(select(Testimony).where(Testimony.reference == scene.testimony_b)).one()
    today = date(2026, 11, 24)
    testimonies.reject(None, testimony, "Off topic.", today=today - timedelta(days=age))
    db.session.commit()
    assert app.config["RETENTION_SCHEDULE"]["testimony_originals"] == "30 days"
    assert (testimony in testimonies.originals_due_for_erasure(today)) is erased
