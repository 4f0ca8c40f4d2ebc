"""The members' privacy notice: public, linked from every page and the testimony form, true to the schedule."""

from __future__ import annotations

import pytest


def test_anyone_reads_the_privacy_notice_without_an_account(app, client):
    page = client.get("/privacy")
    assert page.status_code == 200
    for heading in ("What we keep, and why", "How long we keep it", "Who sees it", "Asking for your information"):
        assert heading in page.text
    assert app.config["PRIVACY_CONTACT"] in page.text.replace("&#39;", "'")


def test_the_notice_quotes_the_schedule_in_force(app, client):
    from napo_tracker.schedule import EXTENSION, parse_schedule

    app.extensions[EXTENSION] = parse_schedule(dict(app.config["RETENTION_SCHEDULE"], closed_cases="8 years"))
    page = client.get("/privacy").text
    assert "8 years after it was last touched" in page and "30 days after an official decides" in page


@pytest.mark.parametrize("path", ["/login", "/testimony", "/testimony/status", "/privacy"])
def test_every_page_links_to_it_in_its_footer(app, client, path):
    page = client.get(path)
    assert page.status_code == 200
    footer = page.text.split("<footer", 1)[1]
    assert 'href="/privacy"' in footer


def test_the_testimony_form_points_to_it_and_states_the_schedule(app, client):
    page = client.get("/testimony").text
    body = page.split("<footer", 1)[0]
    assert 'href="/privacy#testimonies"' in body
    assert "for 30 days more, before it is erased" in body
