"""What every page carries: help one click away, a favicon, menus of what the role may open;
and the small things that made pages hard to read (count axes, figures and codes that wrap)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from napo_tracker import PROJECT_ROOT
from napo_tracker.charts import _bar_figure, _line_figure
from napo_tracker.help.pages import BY_SLUG, HELP_FOR_BLUEPRINT, PAGES

from . import factories


def test_every_page_links_to_its_help_and_the_members_help_needs_no_login(client, world):
    for path in ("/testimony", "/testimony/status", "/privacy", "/login"):
        html = client.get(path).get_data(as_text=True)
        assert 'id="help-link"' in html, path
    assert 'href="/help/members" id="help-link"' in client.get("/testimony").get_data(as_text=True)
    members = client.get("/help/members")
    assert members.status_code == 200 and "Your receipt code" in members.get_data(as_text=True)
    assert client.get("/help/cases").status_code == 302  # staff help: log in first
    index = client.get("/help/").get_data(as_text=True)
    assert "/help/members" in index and "/help/cases" not in index


def test_staff_pages_link_to_their_own_help(client, login_as, world):
    login_as(world.london_rep)
    assert 'href="/help/cases" id="help-link"' in client.get("/cases/").get_data(as_text=True)
    assert 'href="/help/notices" id="help-link"' in client.get("/notices/").get_data(as_text=True)
    page = client.get("/help/cases")
    assert page.status_code == 200 and "<h1>" in page.get_data(as_text=True)
    assert set(HELP_FOR_BLUEPRINT.values()) <= set(BY_SLUG)


def test_help_is_markdown_with_html_off_and_is_searchable(client, login_as, world):
    for help_page in PAGES:
        assert (PROJECT_ROOT / "docs" / f"{help_page.slug}.md").is_file()
    found = client.get("/help/search", query_string={"q": "receipt code"}).get_data(as_text=True)
    assert "/help/members" in found and "/help/cases" not in found  # a visitor sees public pages only
    login_as(world.official)
    found = client.get("/help/search", query_string={"q": "foreseeability"}).get_data(as_text=True)
    assert "/help/notices" in found
    nothing = client.get("/help/search", query_string={"q": "<script>alert(1)</script>"})
    assert nothing.status_code == 200 and "<script>alert(1)</script>" not in nothing.get_data(as_text=True)
    welsh = client.get("/help/search", query_string={"q": "cod derbynneb", "lang": "cy"}).get_data(as_text=True)
    assert "/help/members?lang=cy" in welsh


def test_the_welsh_members_help(client, world):
    html = client.get("/help/members?lang=cy").get_data(as_text=True)
    assert "I aelodau: eich tystiolaeth, gam wrth gam" in html and '<html lang="cy">' in html


def test_a_favicon_served_from_the_app(client, world):
    html = client.get("/testimony").get_data(as_text=True)
    match = re.search(r'<link rel="icon" href="([^"]+)"', html)
    assert match and match.group(1).startswith("/static/")
    icon = client.get(match.group(1))
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    icon.close()


@pytest.mark.parametrize(("role", "has_admin_menu"), [("london_rep", False), ("official", True), ("admin", True)])
def test_menus_hold_only_what_the_role_can_open(client, login_as, world, role, has_admin_menu):
    login_as(getattr(world, role))
    html = client.get("/").get_data(as_text=True)
    assert ('data-bs-toggle="dropdown"' in html) is has_admin_menu
    links = re.findall(r'class="(?:nav-link|dropdown-item)[^"]*"[^>]*href="([^"]+)"', html)
    for href in links:
        assert client.get(href).status_code == 200, href
    assert "/regions/" in links


def test_count_charts_tick_whole_numbers():
    bars = _bar_figure("Notices served", ["London", "Wales"], [Decimal(1), Decimal(2)], "", (), None)
    assert all(tick == int(tick) for tick in bars.axes[0].get_xticks())
    from datetime import date

    line = _line_figure("Notices", {"Wales": [(date(2026, 1, 1), Decimal(1)), (date(2026, 2, 1), Decimal(2))]}, "")
    assert all(tick == int(tick) for tick in line.axes[0].get_yticks())


def test_a_figure_never_wraps_inside_itself(client, login_as, world):
    factories.make_case(world.london_rep, world.london, wmt_percent=135)
    login_as(world.london_rep)
    html = client.get("/cases/").get_data(as_text=True)
    assert re.search(r'<span class="figure">135 %</span>', html)
