"""Evidence fixtures: a few items (made by tests.factories), CSV files made in memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import pytest

from napo_tracker.evidence.importer import HEADER
from napo_tracker.evidence.models import EvidenceItem

from ..factories import World, make_evidence_sample


def csv_bytes(
    rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER, *, bom: bool = False, encoding: str = "utf-8"
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode(encoding)


def good_rows() -> list[list[str]]:
    return [
        ["London", "London PDU", "wmt_percent_avg", "192", "2023-01-31", "", "union survey", "Briefing A", ""],
        [
            "london",
            "london iom",
            "Caseload per officer",
            "60",
            "14/05/2014",
            "po",
            "Member report",
            "Bulletin B",
            "IOM officers hold 60+ cases.",
        ],
        ["", "", "VACANCIES", "615", "2019-06-30", "PO", "inspectorate_report", "Inspection C", ""],
        ["Wales", "", "staff_in_post", "24.43", "31/03/2024", "", "management data", "FOI D", ""],
    ]


@pytest.fixture
def items(world: World) -> dict[str, EvidenceItem]:
    """A few figures: London (a unit's 5 reports and an individual), Wales, and national."""
    return make_evidence_sample(world)
