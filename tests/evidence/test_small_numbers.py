"""The small-number rule, written once (``disclosure``), protecting people rather than numbers:
one unit's figure from two people is withheld from everyone but admins, from three it is
shown; a region's or a national figure is coarse enough to show; a public source is never
withheld; a member's consent or an official's audited override lets one be cited. Items,
groups, pages, exports and dashboards. (``aggregate``'s groups keep the older per-group rule.)"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from napo_tracker.audit.models import AuditEvent
from napo_tracker.evidence.models import EvidenceItem
from napo_tracker.evidence.services import (
    EvidenceError,
    aggregate,
    allow_small_number,
    dashboard_data,
    disclosure,
    is_small_number,
    is_withheld,
    latest_by_region,
    people_at_risk,
    reveals_fewer_than_three,
    shown_value,
)
from napo_tracker.extensions import db

from ..factories import World, make_case, make_evidence, make_member, make_testimony

LEVELS = ("unit", "region", "national")


def _figure(world: World, level: str, reporters: int | None, **fields) -> EvidenceItem:
    """An average WMT of 157 % at ``level`` (London PDU, London, national) from ``reporters`` people."""
    return make_evidence(
        world.official,
        region=None if level == "national" else world.london,
        unit="London PDU" if level == "unit" else None,
        value=fields.pop("value", "157"),
        reporter_count=reporters,
        **fields,
    )


def _where(level: str) -> str:
    return "National" if level == "national" else "London"


def test_the_rule_is_fewer_than_three_people():
    assert [is_small_number(n) for n in (0, 1, 2, 3, 4, 500)] == [True, True, True, False, False, False]
    assert not is_small_number(None)  # not from individual reports: management data, a published report


def test_a_figure_built_from_items_counts_the_people_behind_its_withheld_items():
    assert people_at_risk([]) is None
    assert people_at_risk([None, 40]) is None  # nothing in it is withheld
    assert people_at_risk([2]) == 2
    assert people_at_risk([2, None]) == 2  # beside management data, still two people
    assert people_at_risk([1, 5]) == 1  # the five-person item is shown: the average would give the one away
    assert people_at_risk([1, 1, 1]) == 3


@pytest.mark.parametrize("level", LEVELS)
def test_an_item_from_two_people_is_withheld_at_a_unit_and_shown_at_a_coarser_place(world, level):
    two, three = _figure(world, level, 2), _figure(world, level, 3)
    assert reveals_fewer_than_three(two) and not reveals_fewer_than_three(three)
    withheld = level == "unit"
    assert is_withheld(two) is withheld
    assert shown_value(two, world.official) == ("fewer than 3" if withheld else "157%")
    assert shown_value(two, world.london_rep) == ("fewer than 3" if withheld else "157%")
    assert shown_value(two, world.admin) == "157%"
    assert shown_value(three, world.official) == "157%"


def test_a_block_says_why_and_what_would_lift_it(world):
    said = disclosure(_figure(world, "unit", 1))
    assert not said.may_cite
    assert "one person's report at one PDU" in said.reason
    assert "region" in said.unblock and "consented" in said.unblock and "reason" in said.unblock


@pytest.mark.parametrize("source", ("parliamentary_answer", "inspectorate_report", "foi_response", "press"))
def test_a_public_source_is_never_withheld(world, source):
    item = _figure(world, "unit", 1, source_type=source)
    assert not is_withheld(item) and "public source" in disclosure(item).reason
    assert shown_value(item, world.london_rep) == "157%"


def test_a_members_consent_lets_one_persons_figure_be_cited(world):
    member = make_member(world.london_rep, world.london)
    consented = make_case(world.london_rep, world.london, member_id=member.id, has_evidence_consent=True)
    refused = make_case(world.london_rep, world.london, member_id=member.id, has_evidence_consent=False)
    assert not is_withheld(_figure(world, "unit", 1, case_id=consented.id))
    assert is_withheld(_figure(world, "unit", 1, case_id=refused.id))
    quoted = make_testimony(mps=True)
    assert not is_withheld(_figure(world, "unit", 1, testimony_id=quoted.id))


def test_an_official_may_allow_one_with_a_reason_which_is_audited(world):
    item = _figure(world, "unit", 1)
    for reason in ("", "   ", "ok"):
        with pytest.raises(EvidenceError, match="Say why"):
            allow_small_number(world.official, item, reason)
    with pytest.raises(EvidenceError, match="Only national officials"):
        allow_small_number(world.london_rep, item, "The member asked us to use it.")
    assert is_withheld(item)
    allow_small_number(world.official, item, "Published in our own briefing with the member's agreement.")
    db.session.commit()
    assert not is_withheld(item) and "an official allowed it" in disclosure(item).reason
    entry = db.session.query(AuditEvent).filter_by(action="evidence:small-number:overridden").one()
    assert "member's agreement" in str(entry.details)


@pytest.mark.parametrize("level", LEVELS)
def test_a_month_from_two_people_is_withheld_and_from_three_shown(world, level):
    """Groups are per region (a unit's items count in their region) or national."""
    _figure(world, level, 2, as_of=date(2024, 1, 31))
    _figure(world, level, 3, as_of=date(2024, 2, 29))
    groups = {g.period: g for g in aggregate(period="month")}
    assert groups["2024-01"].is_suppressed and not groups["2024-02"].is_suppressed
    assert groups["2024-01"].value_for(world.official) is None
    assert groups["2024-01"].value_for(world.admin) == 157
    assert groups["2024-02"].value_for(world.official) == 157
    data = dashboard_data(world.official)
    wmt = next(f for f in data["figures"] if f.metric.code == "wmt_percent_avg")
    assert [(r["region"], r["period"], r["value"], r["is_suppressed"]) for r in wmt.rows] == [
        (_where(level), "2024-02", 157, False)
    ]
    assert data["trend"] == {_where(level): [(date(2024, 2, 1), 157)]}  # the withheld month is left out


@pytest.mark.parametrize("level", LEVELS)
def test_the_latest_figure_per_region_follows_the_same_rule(world, level):
    _figure(world, level, 2, as_of=date(2024, 1, 31))
    assert [r["is_suppressed"] for r in latest_by_region("wmt_percent_avg")] == [True]
    _figure(world, level, 3, as_of=date(2024, 2, 29))
    assert [r["is_suppressed"] for r in latest_by_region("wmt_percent_avg")] == [False]


def test_an_average_cannot_give_away_one_persons_figure(world):
    # One person's figure beside a five-person figure that is shown: the mean would reveal it.
    _figure(world, "region", 1, value="190", as_of=date(2024, 1, 10))
    _figure(world, "region", 5, value="110", as_of=date(2024, 1, 20))
    # Two people's figure beside management data (which counts nobody): still two people.
    _figure(world, "national", 2, value="140", as_of=date(2024, 1, 10))
    _figure(world, "national", None, value="120", as_of=date(2024, 1, 20), source_type="management_data")
    groups = {g.region_id: g for g in aggregate(period="month")}
    assert groups[world.london.id].is_suppressed and groups[None].is_suppressed


def test_figures_about_one_person_each_are_shown_together_from_three_people(world):
    for n, value in enumerate(("118", "131", "142")):
        make_evidence(world.official, metric="wmt_percent", region=world.london, value=value, grade="PO")
        [group] = aggregate(period="month")
        assert group.is_suppressed is (n < 2), n
    assert group.value_for(world.official) == Decimal("130.33")


def test_pages_exports_and_dashboards_withhold_two_people_from_all_but_admins(client, login_as, world):
    two = _figure(world, "unit", 2)
    login_as(world.official)
    page = client.get(f"/evidence/{two.reference}")
    assert "fewer than 3" in page.text and "157%" not in page.text
    assert "Withheld: it rests on 2 people&#39;s report at one PDU" in page.text
    listing = client.get("/evidence/")
    assert "fewer than 3" in listing.text and "157%" not in listing.text
    export = list(csv.reader(io.StringIO(client.get("/evidence/export.csv").text.lstrip("\ufeff"))))
    assert export[1][4] == "fewer than 3"
    dashboard = client.get("/dashboard?level=unit").text
    assert "fewer than 3" in dashboard and "157%" not in dashboard
    assert client.get("/api/v1/statistics?metric=wmt_percent_avg&level=unit").get_json()["figures"][0]["value"] is None
    login_as(world.admin)
    assert "157%" in client.get(f"/evidence/{two.reference}").text
    assert "157%" in client.get("/dashboard?level=unit").text


@pytest.mark.parametrize("level", LEVELS)
def test_pages_show_a_figure_from_three_people(client, login_as, world, level):
    three = _figure(world, level, 3)
    login_as(world.london_rep)
    page = client.get(f"/evidence/{three.reference}")
    assert "157%" in page.text and "fewer than 3" not in page.text
    assert "157%" in client.get(f"/dashboard?level={level}").text


def test_a_month_with_one_persons_figure_beside_three_peoples_is_withheld(world):
    """Only the withheld items count: the three people's item is shown on its own, so the
    month's average would give away the one person's figure (3 + 1 is not "four people")."""
    _figure(world, "region", 3, as_of=date(2024, 3, 10), value="150")
    _figure(world, "region", 1, as_of=date(2024, 3, 20), value="190")
    _figure(world, "region", 3, as_of=date(2024, 4, 10), value="150")
    _figure(world, "region", 3, as_of=date(2024, 4, 20), value="190")
    groups = {g.period: g for g in aggregate(period="month")}
    assert groups["2024-03"].is_suppressed and groups["2024-03"].value_for(world.official) is None
    assert not groups["2024-04"].is_suppressed and groups["2024-04"].value_for(world.official) == 170


def test_figures_about_one_person_each_count_one_person_for_each_item_without_a_count(world):
    """A metric about one person (an individual's WMT %): an item without a reporter count is one
    person; with one beside an item of five people, the month rests on one person's figure."""
    _figure(world, "region", 5, metric="wmt_percent", as_of=date(2024, 5, 10))
    _figure(world, "region", None, metric="wmt_percent", as_of=date(2024, 5, 20))
    _figure(world, "region", 1, metric="wmt_percent", as_of=date(2024, 6, 10))
    _figure(world, "region", None, metric="wmt_percent", as_of=date(2024, 6, 20))
    groups = {g.period: g for g in aggregate(period="month")}
    assert groups["2024-05"].is_suppressed and groups["2024-05"].people_at_risk == 1
    assert groups["2024-06"].is_suppressed and groups["2024-06"].people_at_risk == 2


def test_only_an_admin_sees_small_numbers_exactly_and_nobody_else_whatever_they_are(world):
    from napo_tracker.evidence.services import effective_reporters, may_see_exact

    assert may_see_exact(world.admin) and not may_see_exact(world.official) and not may_see_exact(world.london_rep)
    assert not may_see_exact(None) and not may_see_exact(object())  # no account, or a stand-in: not an admin
    one = _figure(world, "region", None, metric="wmt_percent", as_of=date(2024, 7, 1))
    assert effective_reporters(one) == 1  # a figure about one person, with no count, is one person's
