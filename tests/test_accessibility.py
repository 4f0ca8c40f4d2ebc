"""WCAG 2.2 AA in a real browser: axe-core finds no serious or critical problem on any page,
for any role or for a member with no account, and every page links to its help. (A journey by
keyboard alone, in Welsh: tests/testimonies/test_browser_welsh.py.)

The pages are found, not listed: every page of the URL map that takes no argument, then,
crawling from them, one page of each other kind the role reaches through links (a case, a
notice, a briefing…). A new page is checked as soon as it exists and is linked.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter

from .a11y import describe, install_axe, serious_violations
from .browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]  # pages are the same on either database

# Not pages: downloads, feeds, machine endpoints, and pages that change something when opened.
SKIPPED_ENDPOINTS = {"static", "bootstrap.static", "main.healthz", "notices.calendar_feed"}
SKIPPED_SUFFIXES = (".pdf", ".csv", ".xlsx", ".zip", ".ics", ".json", ".css", ".js", ".svg", ".png", ".eml")
SKIPPED_BLUEPRINTS = {"api", "tokens"}
MAX_PAGES = 80


def _adapter(app: Flask) -> MapAdapter:
    return app.url_map.bind("localhost")


def _endpoint(adapter: MapAdapter, path: str) -> str | None:
    try:
        endpoint, _args = adapter.match(path, method="GET")
    except HTTPException:
        return None
    return str(endpoint)


def _is_page(endpoint: str | None, path: str) -> bool:
    if endpoint is None or endpoint in SKIPPED_ENDPOINTS or endpoint.split(".")[0] in SKIPPED_BLUEPRINTS:
        return False
    return not path.endswith(SKIPPED_SUFFIXES)


def starting_paths(app: Flask) -> list[str]:
    """Every GET page of the URL map that needs no argument."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or ()) and not rule.arguments and _is_page(rule.endpoint, rule.rule):
            paths.append(rule.rule)
    return sorted(paths)


def crawl(page: Page, base: str, app: Flask, failures: list[str]) -> Iterator[str]:
    """Open each starting page, then one page of each further kind found through links; yield
    each path once it is loaded. A page that fails on the server is added to ``failures``."""
    adapter = _adapter(app)
    queue = starting_paths(app)
    seen_endpoints: set[str] = set()
    seen_paths: set[str] = set()
    opened = 0
    while queue and opened < MAX_PAGES:
        path = queue.pop(0)
        endpoint = _endpoint(adapter, urlsplit(path).path)
        if path in seen_paths or not _is_page(endpoint, urlsplit(path).path) or endpoint in seen_endpoints:
            continue
        seen_paths.add(path)
        response = page.goto(base + path)
        if response is not None and response.status >= 500:
            failures.append(f"{path}: {response.status}")
        if response is None or response.status >= 400 or not page.url.startswith(base):
            continue
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        # Where the browser landed (a page a visitor may not open sends them to log in).
        endpoint = _endpoint(adapter, urlsplit(page.url).path)
        if endpoint is None or endpoint in seen_endpoints:
            continue
        seen_endpoints.add(endpoint)
        opened += 1
        yield path
        links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
        for href in links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            candidate = parts.path + (f"?{parts.query}" if parts.query and "lang=" in parts.query else "")
            if candidate not in seen_paths:
                queue.append(candidate)


@pytest.fixture
def demo_data(app, world):
    """The demo's records beside the test world: lists, charts and records to open."""
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return world


def _checked(browser: Browser, base: str, app: Flask, user=None) -> tuple[list[str], dict, list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    install_axe(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        if user is not None:
            sign_in(page, base, user.email)
        found: dict[str, list] = {}
        visited: list[str] = []
        failures: list[str] = []
        for path in crawl(page, base, app, failures):
            visited.append(path)
            if page.locator("#help-link").count() != 1:  # help is one click from every page
                failures.append(f"{path}: no help link")
            problems = serious_violations(page)
            if problems:
                found[path] = problems
        return visited, found, failures
    finally:
        context.close()


@pytest.mark.parametrize("role", ["anonymous", "official", "london_rep", "admin"])
def test_no_serious_accessibility_problem_on_any_page(browser, live_server, app, demo_data, role):
    user = None if role == "anonymous" else getattr(demo_data, role)
    visited, found, failures = _checked(browser, live_server, app, user)
    assert not failures, failures
    assert len(visited) >= (8 if role == "anonymous" else 25), visited
    assert not found, f"axe-core found serious problems ({role}):\n" + describe(found)
