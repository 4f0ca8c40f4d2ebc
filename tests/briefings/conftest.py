"""Briefing fixtures: briefings, evidence and testimonies, all built by tests.factories."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, TypeVar

import pytest

from napo_tracker.briefings import services as svc
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today
from tests import factories
from tests.factories import ask_question, make_briefing, make_question, make_section

# ---- other domains' records, in the words briefings tests use: each goes to tests.factories


def make_evidence(
    actor,
    *,
    metric_code: str | None = "wmt_percent_avg",
    value: str | None = "192",
    as_of: date | None = None,
    visibility: str = "public",
    is_verified: bool = True,
    **fields: Any,
):
    """A citable figure by default: public, verified, from a union survey dated last month."""
    return factories.make_evidence(
        actor,
        metric=metric_code if value is not None else None,
        value=value,
        as_of=as_of or today() - timedelta(days=30),
        source_type="union_survey",
        source_publisher="Napo",
        source_date=as_of or today() - timedelta(days=20),
        visibility=visibility,
        is_verified=is_verified,
        **fields,
    )


def make_testimony(
    official,
    *,
    text: str = "I hold far more high-risk cases than I can safely manage.",
    mps: bool = True,
    press: bool = False,
    approve: bool = True,
    region=None,
    grade: str = "PO",
):
    """A testimony approved (by default) in ``text``, the member's own words being longer."""
    return factories.make_testimony(
        text + " (original words)",
        mps=mps,
        press=press,
        region=region,
        grade=grade,
        approved_by=official if approve else None,
        public_text=text,
    )


# ---- briefings

T = TypeVar("T")


def saved(model: type[T], ident: Any) -> T:
    """The record the database holds under ``ident`` (which must exist)."""
    record = db.session.get(model, ident)
    assert record is not None, f"no {model.__name__} {ident}"
    return record


@pytest.fixture
def briefing(world):
    """A draft for MPs with a title and a signatory and no sections."""
    return make_briefing(world.official)


@pytest.fixture
def full_briefing(world, briefing):
    """A complete, publishable briefing: sections, a cited figure, a chart, a testimony, questions."""
    official = world.official
    item = make_evidence(
        official, region=world.london, value="192", statement=None, source_title="London PDU workload return"
    )
    statement = make_evidence(
        official,
        region=world.wales,
        value=None,
        metric_code=None,
        statement="Staff are carrying well over one and a half times a full workload.",
        source_title="Wales branch survey",
    )
    testimony = make_testimony(official, text="After twenty years I am leaving because the caseload is unsafe.")
    make_section(
        official,
        briefing,
        kind="introduction",
        heading="Introduction",
        body="Caseloads have become **dangerous** across England and Wales.",
    )
    make_section(
        official,
        briefing,
        kind="regional_evidence",
        heading="Evidence from the regions",
        body=f"# London\n\n- Staff in one PDU average [={item.reference}] of the WMT.\n\n"
        f"# Wales\n\n- {statement.statement} [{statement.reference}]",
    )
    risks = make_section(
        official, briefing, kind="risks", heading="Risks", body="Serious further offences become more likely."
    )
    svc.set_section_chart(official, risks, metric_code="wmt_percent_avg", region_ids=[world.london.id], since_on=None)
    make_section(official, briefing, kind="staff_testimonies", heading="Staff testimonies", body="")
    make_section(
        official,
        briefing,
        kind="what_next",
        heading="What next?",
        body="A full staffing review, published region by region.",
    )
    svc.set_testimonies(official, briefing, [testimony.id])
    bank = make_question(official, text="What are the target staffing numbers for each region?", topics="staffing")
    ask_question(official, briefing, question=bank)
    ask_question(official, briefing, text="Will the Minister order a full staffing review?")
    db.session.commit()
    briefing.test_item = item
    briefing.test_statement = statement
    briefing.test_testimony = testimony
    return briefing
