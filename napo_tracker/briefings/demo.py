"""Demo briefings, built from the seeds: a question bank written afresh on the seeds' themes,
and one briefing for MPs shaped like seed 000 (regional evidence, risks, recruitment and
retention, testimonies, what next, questions), drawn from the demo evidence and testimonies.

Idempotent: questions are looked up by their text and the briefing by its title.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ..accounts.models import User, user_by_email
from ..evidence.models import EvidenceItem, Metric, Visibility
from ..extensions import db
from ..kernel.clock import today
from ..regions.models import region_by_name
from . import services as svc
from .checks import blocking
from .models import Audience, Briefing, Question, SectionKind

DEMO_TITLE = "Probation workloads and staffing: evidence from the regions"
DEMO_OFFICIAL = "official@demo.napo-tracker.test"

# (text, topics): written for this app on the themes the seeds keep returning to.
QUESTION_BANK = [
    (
        "Beyond the current recruitment campaign, what is the Ministry doing to keep the probation staff it "
        "already has, and what are its short, medium and long term plans to bring workloads down?",
        ["retention", "workload"],
    ),
    (
        "What is the target staffing level for each probation region, and how far below it is each region today?",
        ["staffing", "regions"],
    ),
    (
        "Will the Minister ask the employer to open genuine pay negotiations with the probation unions this year?",
        ["pay"],
    ),
    (
        "When a serious further offence follows from a caseload no officer could safely manage, who will answer for "
        "it: the officer, or the Ministry that set the staffing?",
        ["sfo", "accountability"],
    ),
    (
        "How does the Ministry make sure that practitioners holding high-risk cases receive regular, good-quality "
        "clinical supervision?",
        ["supervision", "risk"],
    ),
    (
        "How many newly qualified officers left the service within two years of qualifying in each of the last "
        "three years, and what does the Ministry conclude from that?",
        ["retention", "training"],
    ),
    (
        "Will the Minister commission an independent staffing review and publish the vacancies it finds, region "
        "by region?",
        ["staffing", "vacancies"],
    ),
    (
        "How many cases are currently held by no named officer, and how many of them are assessed as high or very "
        "high risk of harm?",
        ["unallocated cases", "risk"],
    ),
    (
        "What assurance can the Minister give that newly qualified officers will keep the protected caseload "
        "their first year is meant to have?",
        ["training", "workload"],
    ),
    (
        "How much of an officer's week is now spent on recording and administration rather than with the people "
        "they supervise, and what is being done to reduce it?",
        ["workload", "it systems"],
    ),
]

INTRODUCTION = """\
Since the service was reunified, the union has watched staff shortages turn into a workload crisis.
Caseloads across England and Wales now run far beyond what the workload management tool (WMT)
calls full, and the people carrying them are leaving faster than they can be replaced.

This briefing sets out a handful of examples from the regions. It is not a complete picture:
every figure in it is numbered and listed under Sources, so it can be checked."""

RISKS = """\
Past reviews of serious further offences (SFOs) found that excessive caseloads were a major
factor when risk was not managed. With many practitioners now well beyond what the WMT calls
full, the union expects the number of SFOs to rise.

When that happens, individual officers must not be blamed for what is an organisational failure.
The union will defend any member held responsible for risks they had warned about."""

RECRUITMENT = """\
Recruitment campaigns bring new trainees in, but experienced staff keep leaving under the
pressure, and some newly qualified officers go within a year or two of qualifying: a loss of
skill and of public money. Nationally the inspectorate counted {vacancies} probation officer
vacancies.

Internal candidates who want to qualify face a recruitment process that takes little account
of their experience, and some who succeed see their training start postponed because they
cannot be spared from their current posts."""

WHAT_NEXT = """\
None of this will be fixed overnight, but there is still no plan for the short, medium or long
term. The union asks for:

- a full staffing review, with vacancies identified and published for every region;
- a workload strategy that reduces caseloads rather than listing tasks staff may leave undone;
- a pay award that recognises the work probation staff have carried through the crisis."""


def load(echo: Callable[[str], object]) -> None:
    """Add the bank questions and the demo briefing that are missing."""
    official = user_by_email(DEMO_OFFICIAL)
    if official is None:
        raise svc.BriefingError(f"The demo official {DEMO_OFFICIAL} is missing: load the demo accounts first.")
    existing = set(db.session.scalars(select(Question.text)))
    added = 0
    for text, topics in QUESTION_BANK:
        if text not in existing:
            svc.create_question(official, text=text, topics=topics)
            added += 1
    db.session.flush()
    made = 0
    if db.session.scalar(select(Briefing.id).where(Briefing.title == DEMO_TITLE)) is None:
        build_demo_briefing(official)
        made = 1
    echo(f"  briefings: {added} bank questions and {made} demo briefing added")


def _seed_item(metric_code: str, value: str) -> EvidenceItem | None:
    return db.session.scalar(
        select(EvidenceItem)
        .join(Metric, EvidenceItem.metric_id == Metric.id)
        .where(Metric.code == metric_code, EvidenceItem.visibility == Visibility.PUBLIC.value)
        .where(EvidenceItem.value == Decimal(value))
        .order_by(EvidenceItem.id)
        .limit(1)
    )


def build_demo_briefing(official: User) -> Briefing:
    briefing = svc.create_briefing(
        official,
        title=DEMO_TITLE,
        subtitle="A briefing from Napo for MPs and peers",
        audience=Audience.MPS,
        dated_on=today(),
        signatory_name="Nia National-Official",
        signatory_title="National Official",
    )
    svc.add_section(official, briefing, kind=SectionKind.INTRODUCTION, heading="Introduction", body=INTRODUCTION)
    regions = [r for r in (region_by_name(n) for n in ("London", "East Midlands", "West Midlands", "Wales")) if r]
    # With no citable evidence loaded, the demo briefing still shows its shape.
    with contextlib.suppress(svc.BriefingError):
        # The seeds' regional figures describe the start of 2023: the period says so.
        svc.generate_regional_section(
            official, briefing, [r.id for r in regions], date_from=date(2022, 7, 1), date_to=date(2023, 6, 30)
        )
    risks = svc.add_section(official, briefing, kind=SectionKind.RISKS, heading="Risks", body=RISKS)
    chart_regions = [r.id for r in regions if r.name in ("London", "West Midlands", "East Midlands")]
    if _seed_item("wmt_percent_avg", "192") is not None:
        svc.set_section_chart(
            official, risks, metric_code="wmt_percent_avg", region_ids=chart_regions, since_on=date(2020, 1, 1)
        )
    vacancies = _seed_item("vacancies", "615")
    svc.add_section(
        official,
        briefing,
        kind=SectionKind.RECRUITMENT_RETENTION,
        heading="Recruitment and retention",
        body=RECRUITMENT.format(vacancies=f"[={vacancies.reference}]" if vacancies else "hundreds of"),
    )
    testimonies = svc.quotable_for_briefing(briefing, limit=3)
    svc.add_section(
        official,
        briefing,
        kind=SectionKind.STAFF_TESTIMONIES,
        heading="Staff testimonies",
        body="In their own words, as approved for quotation by the members who wrote them:",
    )
    svc.set_testimonies(official, briefing, [t.id for t in testimonies])
    svc.add_section(official, briefing, kind=SectionKind.WHAT_NEXT, heading="What next?", body=WHAT_NEXT)
    bank = {q.text: q for q in db.session.scalars(select(Question))}
    for text, _topics in QUESTION_BANK[:7]:
        svc.add_question(official, briefing, question=bank[text])
    if not blocking(briefing):
        svc.publish(official, briefing)
    return briefing
