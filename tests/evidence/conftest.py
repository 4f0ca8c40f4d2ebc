"""Evidence fixtures: items made through the services, CSV files made in memory."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from napo_tracker.evidence.importer import HEADER
from napo_tracker.evidence.models import metric_by_code
from napo_tracker.evidence.services import create_evidence
from napo_tracker.extensions import db

from ..factories import unit


def csv_bytes(rows, header=HEADER, *, bom: bool = False, encoding: str = "utf-8") -> bytes:
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


def make_item(
    actor,
    *,
    metric: str | None = "wmt_percent_avg",
    value: str | None = "120",
    region=None,
    unit_name: str | None = None,
    as_of: date = date(2024, 1, 31),
    **extra,
):
    metric_obj = metric_by_code(metric) if metric else None
    fields = dict(
        region_id=region.id if region else None,
        unit_id=unit(region, unit_name).id if unit_name else None,
        metric_id=metric_obj.id if metric_obj else None,
        value=Decimal(value) if value is not None else None,
        as_of=as_of,
        source_type=extra.pop("source_type", "rep_survey"),
        source_title=extra.pop("source_title", "Test source"),
        **extra,
    )
    item = create_evidence(actor, **fields)
    db.session.commit()
    return item


@pytest.fixture
def items(world):
    """A few figures: London (a unit's 3 reports and an individual), Wales, and national."""
    return {
        "london": make_item(world.official, region=world.london, value="150", unit_name="London PDU", reporter_count=5),
        "individual": make_item(
            world.official, metric="wmt_percent", region=world.london, value="118", unit_name="London PDU", grade="NQO"
        ),
        "wales": make_item(world.official, metric="staff_in_post", region=world.wales, value="24.43"),
        "national": make_item(world.official, metric="vacancies", value="615", as_of=date(2019, 6, 30)),
    }
