"""The kernel's shared words: labelled enums, grades, roles, the union's day, record ids."""

from __future__ import annotations

from datetime import UTC, date, datetime

from napo_tracker.kernel.clock import today
from napo_tracker.kernel.labels import LabelledEnum
from napo_tracker.kernel.vocabulary import SEES_ALL_REGIONS, STAFF_ROLES, Grade, Role, sees_all_regions


class Colour(LabelledEnum):
    DARK_RED = "dark_red", "Deep red"
    BLUE = "blue"


def test_a_labelled_enum_is_its_stored_string_and_carries_a_label():
    stored: str = "dark_red"
    assert stored == Colour.DARK_RED and f"{Colour.DARK_RED}" == stored
    assert Colour("dark_red") is Colour.DARK_RED
    assert Colour.DARK_RED.label == "Deep red"
    assert Colour.BLUE.label == "Blue"  # no label given: the value, made readable
    assert Colour.choices() == [("dark_red", "Deep red"), ("blue", "Blue")]
    assert Colour.labels() == {"dark_red": "Deep red", "blue": "Blue"}
    assert Colour.label_of("blue") == "Blue"
    assert Colour.label_of("green") == "green"  # an unknown stored value is shown as it is
    assert Colour.label_of(None, "—") == "—" and Colour.label_of("", "—") == "—"
    assert Colour.has_value("blue") and not Colour.has_value("Blue") and not Colour.has_value(None)


def test_the_grades_are_the_unions_own_words_with_their_stored_values():
    assert [grade.value for grade in Grade] == ["PO", "PSO", "PQiP", "NQO", "SPO", "admin", "court", "family_court"]
    assert Grade.label_of("NQO") == "Newly qualified officer (NQO)"
    assert Grade("PQiP") is Grade.PQIP


def test_officials_and_admins_see_every_region_and_reps_only_theirs():
    assert {Role.REP, Role.OFFICIAL, Role.ADMIN} == STAFF_ROLES
    assert {Role.OFFICIAL, Role.ADMIN} == SEES_ALL_REGIONS
    assert sees_all_regions("official") and sees_all_regions(Role.ADMIN)
    assert not sees_all_regions("rep") and not sees_all_regions(None) and not sees_all_regions("Official")
    assert Role.OFFICIAL.label == "National official"


def test_the_unions_day_is_londons_not_the_servers():
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time) ...
    assert today(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == date(2026, 7, 1)
    # ... but in winter London keeps UTC.
    assert today(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == date(2026, 12, 31)
    assert isinstance(today(), date)


def test_record_ids_in_urls_are_positive_database_integers(app, client, login_as, world):
    login_as(world.admin)
    assert client.get(f"/regions/{world.london.id}").status_code == 200
    for bad in ("0", "-1", "2147483648", "99999999999999999999", "1.5", "x"):
        assert client.get(f"/regions/{bad}").status_code == 404, bad
