"""Casework fixtures: members and cases made by ``tests.factories``."""

from __future__ import annotations

import functools

import pytest

from tests import factories


@pytest.fixture
def make_member(world):
    """``factories.make_member``, by the London rep in London unless ``actor``/``region`` say otherwise."""
    return functools.partial(factories.make_member, actor=world.london_rep, region=world.london)


@pytest.fixture
def make_case(world):
    """``factories.make_case``, by the London rep in London unless ``actor``/``region`` say otherwise."""
    return functools.partial(factories.make_case, actor=world.london_rep, region=world.london)


@pytest.fixture
def london_unit(world):
    return factories.unit(world.london, "London PDU")
