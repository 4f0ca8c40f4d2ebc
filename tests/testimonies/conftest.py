"""Fixtures for testimonies: records made through the services, and form data."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from napo_tracker.extensions import db
from napo_tracker.testimonies import services
from napo_tracker.testimonies.models import Testimony

LONG_ENOUGH = "My caseload went from forty to sixty-five cases in three months and nobody covers leave."


@pytest.fixture
def make_testimony(app) -> Callable[..., tuple[Testimony, str]]:
    """Submit a testimony through the service and commit; returns (testimony, receipt code)."""

    def _make(text: str = LONG_ENOUGH, **fields) -> tuple[Testimony, str]:
        testimony, code = services.submit_testimony(text=text, **fields)
        db.session.commit()
        return testimony, code

    return _make


@pytest.fixture
def approved(make_testimony, world) -> Callable[..., Testimony]:
    """An approved testimony with the given consents."""

    def _make(mps: bool = True, press: bool = False, text: str = LONG_ENOUGH) -> Testimony:
        testimony, _code = make_testimony(text, has_mps_consent=mps, has_press_consent=press)
        services.approve(world.official, testimony, text)
        db.session.commit()
        return testimony

    return _make


def form_data(**changes) -> dict:
    data = {"text": LONG_ENOUGH, "region": "", "grade": "", "service_band": ""}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}
