"""Fixtures for foreseeability notices: the factories, with the London rep and unit as defaults."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from napo_tracker.notices.models import ForeseeabilityNotice

from .. import factories
from ..factories import World, unit

# The tests of cases and evidence build notice details through this name.
details_for = factories.notice_details

MakeNotice = Callable[..., ForeseeabilityNotice]


@pytest.fixture
def make_notice(world: World) -> MakeNotice:
    """make_notice(user=None, region=None, served_on=None, today=None, **details) -> a committed notice.

    By default the London rep records it in London, for the London PDU.
    """

    def _make(
        user=None, region=None, served_on: date | None = None, today: date | None = None, **details: Any
    ) -> ForeseeabilityNotice:
        region = region or world.london
        if "unit_id" not in details and region is world.london:
            details["unit_id"] = unit(world.london, "London PDU").id
        return factories.make_notice(user or world.london_rep, region, served_on=served_on, on=today, **details)

    return _make
