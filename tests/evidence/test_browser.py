"""In a real browser: an official uploads a CSV with two bad rows, reads the report, fixes
the file, imports it and sees the new figures on the dashboard."""

from __future__ import annotations

import pytest

from ..browser import sign_in
from .conftest import csv_bytes

pytestmark = pytest.mark.browser


def _rows(wales_value: str, london_region: str):
    return [
        ["Wales", "", "wmt_percent_avg", "137.5", "2024-05-31", "", "rep survey", "Branch survey May", ""],
        [london_region, "London PDU", "wmt_percent_avg", "192", "31/05/2024", "", "union survey", "PDU survey", ""],
        ["Wales", "", "vacancies", wales_value, "2024-05-31", "PO", "management data", "FOI reply", ""],
    ]


def test_official_fixes_a_bad_csv_and_sees_the_figures_on_the_dashboard(page, live_server, world, tmp_path):
    base = live_server
    sign_in(page, base, world.official.email)
    page.wait_for_url(base + "/")

    bad = tmp_path / "may-figures.csv"
    bad.write_bytes(csv_bytes(_rows("twenty", "Londn")))
    page.goto(base + "/evidence/import")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    summary = page.locator("#import-summary")
    assert "Nothing imported: 2 of 3 rows have problems" in summary.inner_text()
    errors = page.locator("#import-errors tbody tr")
    assert errors.count() == 2
    assert (
        "unknown region 'Londn'" in errors.nth(0).inner_text() and errors.nth(0).locator("td").first.inner_text() == "3"
    )
    assert "'twenty' is not a number" in errors.nth(1).inner_text()

    fixed = tmp_path / "may-figures-fixed.csv"
    fixed.write_bytes(csv_bytes(_rows("24.43", "London")))
    page.get_by_label("CSV file").set_input_files(str(fixed))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(base + "/evidence/")
    assert "Imported 3 items" in page.locator(".alert-success").inner_text()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.wait_for_url(base + "/dashboard")
    assert page.locator("figure.chart img").count() >= 2
    wmt = page.locator("#table-wmt_percent_avg").inner_text()
    assert "London" in wmt and "192 %" in wmt and "Wales" in wmt and "137.5 %" in wmt
    assert "24.43 FTE" in page.locator("#table-vacancies").inner_text()
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
