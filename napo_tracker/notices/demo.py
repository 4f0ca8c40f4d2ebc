"""Demo notices, built from the seeds' regions and figures (Warwickshire and West Mercia at
135-145 %, a London PDU averaging 192 %, Wales over 150 %, a trainee at 170 %).

Dates are set relative to today so that some notices are due soon and some overdue. A demo
notice is found again by its unit and the manager it was served to, so running twice adds nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ..accounts.models import user_by_email
from ..cases.models import Case
from ..extensions import db
from ..kernel.clock import today as union_today
from ..regions.models import Unit, region_by_name
from . import services
from .models import ForeseeabilityNotice
from .services import NoticeDetails

# (region, unit, kind, signatories, manager, role, WMT %, caseload, concerns, own words, story)
# story: "draft" | "due_soon" | "overdue" | ("responded", outcome) | ("resolved", outcome)
#        | ("escalated", [steps]) ; "months_ago" shifts service into an earlier month.
NOTICES: list[dict[str, Any]] = [
    dict(
        region="West Midlands",
        unit="Warwickshire and West Mercia",
        kind="collective",
        signatories=11,
        manager="D. Hargreaves",
        role="Head of Probation Delivery Unit",
        wmt="145",
        caseload=None,
        concerns=["caseload_beyond_capacity", "no_cover", "no_time_for_risk_assessment"],
        detail="Caseloads across the team have moved between 135 % and 145 % of the WMT for months. "
        "Sickness absence is not being covered and risk assessments are being rushed or missed.",
        story="overdue",
    ),
    dict(
        region="West Midlands",
        unit="Warwickshire and West Mercia",
        kind="individual",
        signatories=1,
        manager="P. Okafor",
        role="Senior Probation Officer",
        wmt="138",
        caseload=57,
        concerns=["caseload_beyond_capacity", "untrained_high_risk"],
        detail="Holding several high risk of harm cases transferred in without a handover.",
        story="due_soon",
    ),
    dict(
        region="West Midlands",
        unit="Staffordshire and West Midlands",
        kind="individual",
        signatories=1,
        manager="R. Whitfield",
        role="Senior Probation Officer",
        wmt="170",
        caseload=64,
        concerns=["caseload_beyond_capacity", "protected_caseload_breach"],
        detail="A trainee carrying a caseload at 170 % of capacity, far beyond a protected caseload.",
        story=("responded", "partly_reduced"),
    ),
    dict(
        region="London",
        unit="London PDU",
        kind="collective",
        signatories=14,
        manager="S. Adeyemi",
        role="Head of PDU",
        wmt="192",
        caseload=None,
        concerns=["caseload_beyond_capacity", "unallocated_cases", "no_cover"],
        detail="The PDU averages 192 % of the WMT and hundreds of cases have no allocated officer; "
        "whoever is on duty sees them.",
        story=("escalated", ["line_manager", "senior_manager", "health_safety_committee"]),
    ),
    dict(
        region="London",
        unit="London IOM",
        kind="individual",
        signatories=1,
        manager="T. Lambert",
        role="IOM Team Manager",
        wmt="155",
        caseload=60,
        concerns=["caseload_beyond_capacity"],
        detail="An IOM caseload of more than sixty.",
        story=("resolved", "no_action"),
        months_ago=2,
    ),
    dict(
        region="Wales",
        unit="Cardiff and the Vale",
        kind="individual",
        signatories=1,
        manager="G. Pritchard",
        role="Senior Probation Officer",
        wmt="152",
        caseload=48,
        concerns=["caseload_beyond_capacity", "no_time_for_risk_assessment"],
        detail="Over 150 % of the WMT since two colleagues left.",
        story=("resolved", "workload_reduced"),
        months_ago=1,
    ),
    dict(
        region="Wales",
        unit="Swansea, Neath and Port Talbot",
        kind="collective",
        signatories=6,
        manager="H. Morgan",
        role="Head of PDU",
        wmt="150",
        caseload=None,
        concerns=["no_cover", "unallocated_cases"],
        detail="Vacant posts left unfilled; cases held unallocated.",
        story="due_soon",
    ),
    dict(
        region="East Midlands",
        unit="Nottingham City",
        kind="individual",
        signatories=1,
        manager="K. Brennan",
        role="Senior Probation Officer",
        wmt="130",
        caseload=52,
        concerns=["caseload_beyond_capacity"],
        detail="",
        story="draft",
    ),
]

REPS = {
    "London": "rep.london@demo.napo-tracker.test",
    "Wales": "rep.wales@demo.napo-tracker.test",
    "West Midlands": "rep.midlands@demo.napo-tracker.test",
    "East Midlands": "rep.midlands@demo.napo-tracker.test",
}


def _served_on_for(state: str, today: date) -> date:
    """The latest service date whose response deadline is in ``state`` today."""
    for back in range(1, 60):
        served = today - timedelta(days=back)
        if not services.is_working_day(served):
            continue
        due = services.add_working_days(served, services.response_working_days())
        if state == "overdue" and due < today - timedelta(days=3):
            return served
        if state == "due_soon" and today <= due <= services.due_soon_cutoff(today):
            return served
    raise AssertionError(f"no service date gives {state}")


def _demo_case(unit: Unit) -> str:
    """A demo case of the same unit with a member, if the cases demo made one (its member is linked too)."""
    reference = db.session.scalar(
        select(Case.reference).where(Case.unit_id == unit.id, Case.member_id.is_not(None)).order_by(Case.id).limit(1)
    )
    return reference or ""


def _existing(unit: Unit, manager: str) -> ForeseeabilityNotice | None:
    return db.session.scalar(
        select(ForeseeabilityNotice).where(
            ForeseeabilityNotice.unit_id == unit.id, ForeseeabilityNotice.served_to_name == manager
        )
    )


def load(echo) -> None:
    """Add the demo notices that are missing."""
    today = union_today()
    added = 0
    for spec in NOTICES:
        region = region_by_name(spec["region"])
        rep = user_by_email(REPS[spec["region"]])
        unit = next((u for u in region.units if u.name == spec["unit"]), None) if region else None
        if region is None or rep is None or unit is None or _existing(unit, spec["manager"]) is not None:
            continue
        notice = services.create_notice(
            rep,
            NoticeDetails(
                kind=spec["kind"],
                region_id=region.id,
                unit_id=unit.id,
                served_to_name=spec["manager"],
                served_to_role=spec["role"],
                wmt_percent=Decimal(spec["wmt"]),
                caseload=spec["caseload"],
                signatory_count=spec["signatories"],
                concerns=spec["concerns"],
                concerns_detail=spec["detail"],
                case_reference=_demo_case(unit) if spec["kind"] == "individual" else "",
            ),
        )
        added += 1
        story = spec["story"]
        if story == "draft":
            continue
        if story in ("overdue", "due_soon"):
            services.serve_notice(rep, notice, _served_on_for(story, today), on=today)
            continue
        served = today - timedelta(days=30 * spec.get("months_ago", 0) + 35)
        while not services.is_working_day(served):
            served -= timedelta(days=1)
        services.serve_notice(rep, notice, served, on=today)
        due = notice.response_due_on
        assert due is not None  # serving sets it
        kind, detail = story
        if kind in ("responded", "resolved"):
            services.record_response(
                rep,
                notice,
                due - timedelta(days=2),
                "Management replied in writing and agreed to review allocations.",
                detail,
                on=today,
            )
        if kind == "resolved":
            services.resolve_notice(rep, notice, detail)
        if kind == "escalated":
            raised = due + timedelta(days=1)
            for step in detail:
                services.escalate_notice(
                    rep, notice, step, min(raised, today), "No written response was received.", on=today
                )
                raised = services.add_working_days(raised, 5)
    db.session.flush()
    echo(f"  notices: {added} added ({len(NOTICES)} in the demo set)")
