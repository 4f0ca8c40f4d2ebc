"""Fixtures for foreseeability notices: notices made through the services, committed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from napo_tracker.extensions import db
from napo_tracker.notices import services
from napo_tracker.notices.services import NoticeDetails

from ..factories import unit


def details_for(region, *, unit_id=None, **overrides) -> NoticeDetails:
    values = dict(
        kind="individual",
        region_id=region.id,
        unit_id=unit_id,
        served_to_name="Jo Manager",
        served_to_role="Head of PDU",
        wmt_percent=Decimal("142.5"),
        caseload=58,
        concerns=["caseload_beyond_capacity", "no_cover"],
        concerns_detail="Three colleagues off sick.",
    )
    values.update(overrides)
    return NoticeDetails(**values)


@pytest.fixture
def make_notice(world):
    """make_notice(user=None, region=None, served_on=None, **details) -> a committed notice."""

    def _make(user=None, region=None, served_on: date | None = None, today: date | None = None, **overrides):
        user = user or world.london_rep
        region = region or world.london
        if "unit_id" not in overrides and region is world.london:
            overrides["unit_id"] = unit(world.london, "London PDU").id
        notice = services.create_notice(user, details_for(region, **overrides))
        if served_on is not None:
            services.serve_notice(user, notice, served_on, on=today or max(served_on, services.today()))
        db.session.commit()
        return notice

    return _make
