"""The evidence export's rows: empty cells where an item has no region, unit, metric or grade,
and small numbers withheld exactly as on screen (admins alone see them)."""

from __future__ import annotations

from datetime import date

from napo_tracker.evidence.services import FEWER_THAN_THREE, EvidenceFilters, export_rows, filtered_items

from .. import factories


def _rows(user) -> dict[str, list]:
    return {row[0]: row for row in export_rows(user, filtered_items(user, EvidenceFilters()))}


def test_a_national_statement_exports_empty_cells_not_placeholders(world):
    item = factories.make_evidence(
        world.official, metric=None, value=None, statement="Cases left in a cupboard.", as_of=date(2025, 1, 1)
    )
    row = _rows(world.official)[item.reference]
    assert row[1:5] == ["", "", "", ""] and row[6] == ""
    assert "Cases left in a cupboard." in row


def test_a_figure_from_two_people_is_withheld_in_the_export_for_all_but_admins(world):
    item = factories.make_evidence(
        world.official, region=world.london, unit="London PDU", value="157", reporter_count=2, grade="PO"
    )
    assert _rows(world.london_rep)[item.reference][4] == FEWER_THAN_THREE
    assert _rows(world.official)[item.reference][4] == FEWER_THAN_THREE
    admin_row = _rows(world.admin)[item.reference]
    assert admin_row[4] == "157"
    assert admin_row[1:4] == ["London", "London PDU", "wmt_percent_avg"] and admin_row[6] == "PO"
    assert admin_row[12] == ""  # no statement: an empty cell
