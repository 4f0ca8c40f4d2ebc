"""API fixtures: a personal token, and the evidence sample the API reads."""

from __future__ import annotations

import pytest

from napo_tracker.api.services import create_token
from napo_tracker.evidence.models import EvidenceItem
from napo_tracker.extensions import db

from ..factories import World, make_evidence_sample


@pytest.fixture
def items(world: World) -> dict[str, EvidenceItem]:
    """A few figures: London (a unit's 5 reports and an individual), Wales, and national."""
    return make_evidence_sample(world)


@pytest.fixture
def token(world: World) -> str:
    """An official's token text (the header value after ``Bearer``)."""
    _record, text = create_token(world.official, "tests")
    db.session.commit()
    return text
