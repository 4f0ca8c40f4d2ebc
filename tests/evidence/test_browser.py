"""In a real browser: an official uploads a CSV with two bad rows, reads the report, fixes
the file, imports it as one batch and sees the new figures on the dashboard, choosing the
metric and the level."""

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
    page.get_by_label("CSV or XLSX file").set_input_files(str(bad))
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
    page.get_by_label("CSV or XLSX file").set_input_files(str(fixed))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(base + "/evidence/imports/IMP-0001")
    assert "Imported 3 items" in page.locator(".alert-success").inner_text()
    assert "as IMP-0001" in page.locator(".alert-success").inner_text()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.wait_for_url(base + "/dashboard")
    assert page.locator("figure.chart img").count() >= 1
    wmt = page.locator("#latest").inner_text()
    assert "Wales" in wmt and "137.5%" in wmt and "2024-05-31" in wmt
    page.get_by_label("Level").select_option("unit")
    page.get_by_role("button", name="Show").click()
    assert (
        "London PDU (London)" in page.locator("#latest").inner_text() and "192%" in page.locator("#latest").inner_text()
    )
    page.get_by_label("Metric").select_option("vacancies")
    page.get_by_label("Level").select_option("region")
    page.get_by_role("button", name="Show").click()
    vacancies = page.locator("#latest").inner_text()
    assert "24.43 FTE" in vacancies and "PO" in vacancies
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
