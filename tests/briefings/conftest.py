"""Briefing fixtures: briefings from tests.factories; evidence and testimonies made through
their own domains' services."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from napo_tracker.briefings import services as svc
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today
from tests.factories import ask_question, make_briefing, make_question, make_section

# ---- local builders of other domains' records
# The evidence and testimonies branches are adding ``make_evidence`` and ``make_testimony`` to
# tests.factories; until they land, briefings builds its own here, and only here. Swap them for
# the shared factories then (the report says how the arguments map).

_seq = itertools.count(1)


def make_metric(
    code: str = "wmt_percent_avg", label: str = "Average WMT", unit: str = "percent", is_individual: bool = False
):
    from napo_tracker.evidence.models import Metric, metric_by_code

    metric = metric_by_code(code)
    if metric is None:
        metric = Metric(code=code, label=label, unit=unit, is_individual=is_individual)
        db.session.add(metric)
        db.session.flush()
    return metric


def make_evidence(
    actor,
    *,
    region=None,
    unit=None,
    metric_code: str | None = "wmt_percent_avg",
    value: str | None = "192",
    statement: str | None = None,
    as_of: date | None = None,
    visibility: str = "public",
    is_verified: bool = True,
    reporter_count: int | None = None,
    source_title: str | None = None,
):
    from napo_tracker.evidence.services import create_evidence

    metric = make_metric(metric_code) if metric_code else None
    item = create_evidence(
        actor,
        region_id=region.id if region else None,
        unit_id=unit.id if unit else None,
        metric_id=metric.id if metric and value is not None else None,
        value=Decimal(value) if value is not None else None,
        statement=statement,
        as_of=as_of or today() - timedelta(days=30),
        source_type="union_survey",
        source_title=source_title or f"Workload survey no. {next(_seq)}",
        source_publisher="Napo",
        source_date=as_of or today() - timedelta(days=20),
        visibility=visibility,
        reporter_count=reporter_count,
    )
    item.is_verified = is_verified
    db.session.commit()
    return item


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
    from napo_tracker.testimonies import services as tsvc

    testimony, _code = tsvc.submit_testimony(
        text=text + " (original words)",
        region_id=region.id if region else None,
        grade=grade,
        has_mps_consent=mps,
        has_press_consent=press,
    )
    if approve:
        tsvc.approve(official, testimony, text)
    db.session.commit()
    return testimony


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
