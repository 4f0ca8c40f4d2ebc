"""The read-only JSON API: sessions and Bearer tokens, filters, bad filters, statistics,
and a Schemathesis run proving every response conforms to /api/v1/openapi.json."""

from __future__ import annotations

from datetime import date

import pytest

from napo_tracker.api.services import create_token, revoke_token
from napo_tracker.extensions import db

from ..factories import make_evidence


def _bearer(text: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {text}"}


def test_anonymous_and_bad_tokens_get_401_json(client, world, token):
    for headers in ({}, _bearer("napo_wrong"), {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/evidence", headers=headers)
        assert response.status_code == 401 and response.get_json()["error"]
    assert client.get("/api/v1/evidence", headers=_bearer(token)).status_code == 200


def test_a_token_opens_the_api_only_and_stops_when_revoked(client, world, token):
    from napo_tracker.api.models import ApiToken

    assert client.get("/evidence/", headers=_bearer(token)).status_code == 302  # pages still need a login
    assert client.get("/api/v1/metrics", headers=_bearer(token)).status_code == 200
    record = db.session.scalar(db.select(ApiToken))
    assert record.last_used_at is not None
    revoke_token(world.official, record)
    db.session.commit()
    assert client.get("/api/v1/metrics", headers=_bearer(token)).status_code == 401


def test_reps_cannot_make_tokens_but_read_the_api_with_a_session(client, login_as, world, items):
    from napo_tracker.api.services import TokenError

    with pytest.raises(TokenError):
        create_token(world.london_rep, "mine")
    login_as(world.london_rep)
    regions = client.get("/api/v1/regions").get_json()["regions"]
    assert [r["name"] for r in regions] == ["London"]
    refs = {i["reference"] for i in client.get("/api/v1/evidence").get_json()["items"]}
    assert items["wales"].reference not in refs and items["national"].reference in refs


def test_items_are_exact_filtered_paginated_and_withheld(client, world, token, items):
    headers = _bearer(token)
    wales = client.get(f"/api/v1/evidence?region_id={world.wales.id}", headers=headers).get_json()
    assert [i["value"] for i in wales["items"]] == ["24.43"]
    by_metric = client.get("/api/v1/evidence?metric=VACANCIES&from=2019-01-01&to=2019-12-31", headers=headers)
    assert [i["reference"] for i in by_metric.get_json()["items"]] == [items["national"].reference]
    first = client.get("/api/v1/evidence?per_page=3", headers=headers).get_json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    second = client.get(f"/api/v1/evidence?per_page=3&cursor={first['next_cursor']}", headers=headers).get_json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    every = client.get("/api/v1/evidence?per_page=100", headers=headers).get_json()["items"]
    assert [i["reference"] for i in first["items"] + second["items"]] == [i["reference"] for i in every]
    one = client.get(f"/api/v1/evidence/{items['individual'].reference}", headers=headers).get_json()
    assert one["value"] is None and one["is_value_withheld"] is True
    assert client.get("/api/v1/evidence/EV-9999", headers=headers).status_code == 404


BAD_FILTERS = [
    ("metric=happiness", "unknown metric"),
    ("metric=%00", "unknown metric"),  # PostgreSQL refuses NUL bytes: found by Schemathesis
    ("from=2024-01-01&to=2020-01-01", "from must be on or before to"),
    ("per_page=1000000", "per_page must be at most 100"),  # refused, not clamped (documented)
    ("page=2", "follow next_cursor"),  # offsets are gone: a page number is refused, not ignored
    ("cursor=xyz", "cursor is not one this API gave"),
    ("cursor=" + "A" * 65, "cursor is not one this API gave"),
    ("cursor=MjAyNC0xMy0wMS8x", "cursor is not one this API gave"),  # "2024-13-01/1"
    ("cursor=MjAyNC0wMS0wMS85OTk5OTk5OTk5OQ", "cursor is not one this API gave"),  # an id past the range
    ("region_id=99999999999", "region_id must be at most"),
    ("from=31/01/2024", "YYYY-MM-DD"),
    ("verified=maybe", "true or false"),
    ("source_type=rumour", "unknown source_type"),
]


def test_bad_filters_answer_400_with_a_reason(client, world, token):
    for query, message in BAD_FILTERS:
        response = client.get(f"/api/v1/evidence?{query}", headers=_bearer(token))
        assert response.status_code == 400, query
        assert message in response.get_json()["detail"], query


def test_statistics_per_metric_region_and_period(client, world, token):
    for value, as_of in (("110", date(2024, 1, 10)), ("130", date(2024, 1, 20)), ("24.43", date(2024, 2, 5))):
        make_evidence(world.official, region=world.london, value=value, as_of=as_of)
    headers = _bearer(token)
    stats = client.get("/api/v1/statistics?metric=wmt_percent_avg", headers=headers).get_json()
    rows = {row["period"]: row for row in stats["statistics"]}
    assert rows["2024-01"] == {
        "region": "London",
        "region_id": world.london.id,
        "period": "2024-01",
        "count": 2,
        "mean": "120",
        "min": "110",
        "max": "130",
        "is_withheld": False,
    }
    assert rows["2024-02"]["mean"] == "24.43"
    yearly = client.get("/api/v1/statistics?metric=wmt_percent_avg&period=year", headers=headers).get_json()
    assert [r["count"] for r in yearly["statistics"]] == [3]
    assert client.get("/api/v1/statistics", headers=headers).status_code == 400
    assert client.get("/api/v1/statistics?metric=caseload&period=week", headers=headers).status_code == 400


def test_every_response_conforms_to_the_openapi_document(app, world, token, items):
    """Schemathesis generates requests from the document and checks every answer against it.

    Its ignored-auth probe is left out: it replays requests with our token still attached
    (the WSGI client keeps it); anonymous and bad-token requests are tested above. Its
    positive-data check is left out too: a schema-valid request may still be refused with a
    documented 400 (an unknown metric code, an inverted date range).
    """
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.core.result import Err
    from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=_bearer(token))
    checked = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()

        @settings(
            max_examples=10, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def run(case):
            case.call_and_validate(headers=_bearer(token), excluded_checks=[ignored_auth, positive_data_acceptance])

        run()
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("level", ("unit", "region", "national"))
def test_small_numbers_are_withheld_at_every_level_from_all_but_admins(client, login_as, world, token, level):
    """Two people's figure is null (its statistics too); exactly three people's is given."""
    region = None if level == "national" else world.london
    unit = "London PDU" if level == "unit" else None
    two = make_evidence(
        world.official, region=region, unit=unit, value="157", reporter_count=2, as_of=date(2024, 1, 31)
    )
    three = make_evidence(
        world.official, region=region, unit=unit, value="161", reporter_count=3, as_of=date(2024, 2, 29)
    )
    for headers, withheld in ((_bearer(token), True), ({}, False)):
        if not headers:
            login_as(world.admin)
        small = client.get(f"/api/v1/evidence/{two.reference}", headers=headers).get_json()
        assert (small["value"], small["is_value_withheld"]) == ((None, True) if withheld else ("157", False))
        shown = client.get(f"/api/v1/evidence/{three.reference}", headers=headers).get_json()
        assert (shown["value"], shown["is_value_withheld"]) == ("161", False)
        stats = client.get("/api/v1/statistics?metric=wmt_percent_avg", headers=headers).get_json()["statistics"]
        by_period = {row["period"]: row for row in stats}
        assert by_period["2024-01"]["is_withheld"] is withheld
        assert by_period["2024-01"]["mean"] == (None if withheld else "157")
        assert (by_period["2024-02"]["is_withheld"], by_period["2024-02"]["mean"]) == (False, "161")


def test_cursor_pages_walk_every_item_once_in_order_whatever_the_ties(client, world, token, items):
    """Items on the same date are told apart by id: no item is skipped or repeated across pages."""
    for n in range(7):
        make_evidence(world.official, region=world.london, as_of=date(2024, 5, 1), value=str(n + 10))
    headers = _bearer(token)
    every = [i["reference"] for i in client.get("/api/v1/evidence?per_page=100", headers=headers).get_json()["items"]]
    walked, cursor = [], ""
    while True:
        page = client.get(f"/api/v1/evidence?per_page=2&cursor={cursor}", headers=headers).get_json()
        walked += [i["reference"] for i in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert walked == every and len(every) >= 7
