"""Another region's record answers exactly like a record that does not exist, on every route
that addresses one (read from the URL map), and for every method."""

from __future__ import annotations

import re

import pytest

from .probe import route_ids, rule_for, send, url_map_app
from .routes import ACCESS, NOT_FOUND, OK, example_url, takes_other_region


def _scoped_routes() -> list[tuple[str, str]]:
    """Routes that address a region's record and that reps may use (on their own regions')."""
    app = url_map_app()
    return [(e, m) for e, m in route_ids() if takes_other_region(rule_for(app, e)) and ACCESS[e][m].rep_a is OK]


def _page(body: bytes) -> str:
    """The page without what differs between any two answers (the form token)."""
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "", body.decode(errors="replace"))


def test_every_regional_route_is_in_the_table_as_regional():
    """A route that takes a region's record must keep rep B out of region A's."""
    for endpoint, method in _scoped_routes():
        assert ACCESS[endpoint][method].rep_b is NOT_FOUND, f"{method} {endpoint}: rep B reaches region A's record"


@pytest.mark.parametrize("endpoint, method", _scoped_routes())
def test_another_regions_record_is_not_found_like_a_missing_one(app, scene, visitor, endpoint, method):
    rule = rule_for(app, endpoint)
    visitor.become("rep_a")
    other = send(visitor.client, method, example_url(rule, scene, other_region=True), visitor.token)
    missing = send(visitor.client, method, example_url(rule, scene, missing=True), visitor.token)
    assert other.status_code == 404, f"{method} {endpoint}: region B's record answered {other.status_code}"
    assert missing.status_code == 404, f"{method} {endpoint}: a missing record answered {missing.status_code}"
    assert _page(other.data) == _page(missing.data), f"{method} {endpoint}: the two 404s differ"
    assert other.headers.get("Content-Type") == missing.headers.get("Content-Type")
    # The same route with rep A's own record is not a 404: the route itself works.
    own = send(visitor.client, method, example_url(rule, scene), visitor.token)
    own.close()
    assert own.status_code != 404, f"{method} {endpoint}: rep A cannot reach their own region's record"


@pytest.mark.parametrize("endpoint", ["cases.download", "cases.delete_upload"])
def test_a_file_of_another_regions_case_is_not_found_through_ones_own(app, scene, visitor, endpoint):
    """The parent is rep A's, the child region B's: still 404, and the file stays."""
    from napo_tracker.cases.models import CaseAttachment
    from napo_tracker.extensions import db

    visitor.become("rep_a")
    url = f"/cases/{scene.case_a}/attachments/{scene.attachment_b_id}"
    url += "/delete" if endpoint == "cases.delete_upload" else ""
    method = "POST" if endpoint == "cases.delete_upload" else "GET"
    assert send(visitor.client, method, url, visitor.token).status_code == 404
    db.session.expire_all()
    assert db.session.get(CaseAttachment, scene.attachment_b_id) is not None
