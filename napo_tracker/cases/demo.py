"""Demo cases, drawn from the situations the seeds describe, told in our own words.

Idempotent: members are found by membership number and cases by region and title, so
running ``flask demo load`` again adds nothing. Members' names are invented.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from ..accounts.models import User, user_by_email
from ..extensions import db
from ..kernel import clock
from ..regions.models import Region, Unit, region_by_name
from .models import Case, Member
from .services import add_entry, change_status, create_case, create_member, member_with_number

LONDON_REP = "rep.london@demo.napo-tracker.test"
WALES_REP = "rep.wales@demo.napo-tracker.test"
MIDLANDS_REP = "rep.midlands@demo.napo-tracker.test"
ADMIN = "admin@demo.napo-tracker.test"

# membership number: (name, region, unit, grade)
MEMBERS: dict[str, tuple[str, str, str | None, str]] = {
    "DEMO-1001": ("Tomasz Wrobel", "London", "London PDU", "NQO"),
    "DEMO-1002": ("Abena Mensah", "London", "London PDU", "PO"),
    "DEMO-1003": ("Callum Reid", "London", "London IOM", "PO"),
    "DEMO-1004": ("Farah Siddiqui", "London", "Westminster court team", "PSO"),
    "DEMO-1005": ("Owain Pritchard", "Wales", "Cardiff and the Vale", "PO"),
    "DEMO-1006": ("Megan Howells", "Wales", "Swansea, Neath and Port Talbot", "PQiP"),
    "DEMO-1007": ("Siân Lloyd", "Wales", "Cardiff approved premises", "PSO"),
    "DEMO-1008": ("Harjit Bains", "West Midlands", "Staffordshire and West Midlands", "PQiP"),
    "DEMO-1009": ("Deborah Okoye", "West Midlands", "Warwickshire and West Mercia", "PO"),
    "DEMO-1010": ("Liam Gallagher-Shaw", "East Midlands", "Derbyshire", "PSO"),
    "DEMO-1011": ("Rosa Ferreira", "East Midlands", "Nottingham City", "PO"),
    "DEMO-1012": ("Ian McBride", "East Midlands", "Northampton IOM", "PO"),
    "DEMO-1013": ("Chloe Barnard", "South West", "Avon and Somerset", "PO"),
    "DEMO-1014": ("Yusuf Adeyemi", "East of England", "Cambridge", "PO"),
    "DEMO-1015": ("Helen Storey", "Yorkshire and the Humber", "South Yorkshire", "SPO"),
    "DEMO-1016": ("Graham Pike", "North West", "Cumbria", "PSO"),
    "DEMO-1017": ("Nadia Haddad", "South West", "Gloucestershire", "PO"),
}


@dataclass
class DemoCase:
    region: str
    unit: str | None
    category: str
    title: str
    description: str
    grade: str | None = None
    wmt: int | None = None
    caseload: int | None = None
    flags: tuple[str, ...] = ()
    priority: str = "normal"
    status: str = "open"
    member: str | None = None
    rep: str | None = None
    next_action: str | None = None
    due_in_days: int | None = None
    opened_days_ago: int = 30
    outcome: str | None = None
    consent: bool = False
    notes: tuple[tuple[str, int, str], ...] = field(default_factory=tuple)  # (kind, days ago, text)


HIGH, MAPPA, DA, NQO, COVER = (
    "has_high_risk_cases",
    "has_mappa_cases",
    "has_domestic_abuse_cases",
    "has_protected_caseload_breach",
    "has_no_cover",
)

CASES: list[DemoCase] = [
    # London
    DemoCase(
        "London",
        "London PDU",
        "protected_caseload_breach",
        "NQO at 118 % two days after qualifying",
        "Qualified on a Monday; by the Wednesday the workload tool showed 118 %. The first year is meant "
        "to be a protected caseload and nobody has explained why it is not.",
        "NQO",
        118,
        52,
        (NQO, HIGH),
        "urgent",
        "escalated",
        "DEMO-1001",
        LONDON_REP,
        "Letter to the head of the PDU asking for the caseload to be cut back",
        -3,
        40,
        consent=True,
        notes=(
            ("meeting", 35, "Met the member after work. Tired, worried about missing something on a high-risk case."),
            ("letter", 20, "Wrote to the SPO quoting the protected-caseload policy."),
        ),
    ),
    DemoCase(
        "London",
        "London PDU",
        "excessive_workload",
        "Team averaging well over double the WMT",
        "Officers in the PDU report an average close to 192 % on the tool. Supervision sessions keep "
        "being cancelled to make room for reports.",
        "PO",
        192,
        70,
        (HIGH,),
        "urgent",
        "in_progress",
        "DEMO-1002",
        LONDON_REP,
        "Collect WMT screenshots from the whole team",
        5,
        60,
        consent=True,
    ),
    DemoCase(
        "London",
        "London PDU",
        "unallocated_cases",
        "Hundreds of cases with no named officer",
        "Around 650 people on probation in the PDU have no allocated officer and are seen on a duty "
        "rota by whoever is free. Staff say nobody does offence-focused work with them.",
        None,
        None,
        None,
        (HIGH,),
        "high",
        "open",
        None,
        LONDON_REP,
        "Raise at the next joint negotiating meeting",
        10,
        15,
    ),
    DemoCase(
        "London",
        "London IOM",
        "excessive_workload",
        "IOM officer holding 60 cases",
        "The integrated offender management caseload has passed sixty with more prolific cases due.",
        "PO",
        140,
        61,
        (HIGH, DA),
        "normal",
        "resolved",
        "DEMO-1003",
        LONDON_REP,
        opened_days_ago=120,
        outcome="Eight cases moved to a new starter; caseload now 53 and falling.",
        consent=True,
    ),
    DemoCase(
        "London",
        "Westminster court team",
        "inappropriate_allocation",
        "Fast-delivery reports handed over the day before court",
        "Five-day reports arrive the afternoon before the hearing, leaving no time for safeguarding or "
        "domestic-abuse checks.",
        "PSO",
        125,
        None,
        (DA,),
        "high",
        "open",
        "DEMO-1004",
        LONDON_REP,
        "Ask the court team manager for allocation data",
        -6,
        25,
    ),
    DemoCase(
        "London",
        "London PDU",
        "health_safety",
        "Interview rooms without working alarms",
        "Two interview rooms have had broken panic alarms for a month.",
        None,
        None,
        None,
        (),
        "high",
        "closed",
        None,
        LONDON_REP,
        opened_days_ago=200,
        outcome="Alarms repaired and tested; weekly checks now logged by the office manager.",
    ),
    # Wales
    DemoCase(
        "Wales",
        "Cardiff and the Vale",
        "excessive_workload",
        "Team on more than 150 % of the tool",
        "Several officers are above 150 % and staying late most nights to keep on top of OASys.",
        "PO",
        155,
        66,
        (HIGH, MAPPA),
        "urgent",
        "escalated",
        "DEMO-1005",
        WALES_REP,
        "Foreseeability notice to be served by the team",
        3,
        45,
        consent=True,
    ),
    DemoCase(
        "Wales",
        "Swansea, Neath and Port Talbot",
        "protected_caseload_breach",
        "Trainee carrying a qualified officer's caseload",
        "A PQiP learner is on a caseload that would be heavy for an experienced officer, with no "
        "reduction for study days.",
        "PQiP",
        135,
        38,
        (NQO,),
        "high",
        "in_progress",
        "DEMO-1006",
        WALES_REP,
        "Check the training agreement with the learning and development lead",
        -2,
        30,
    ),
    DemoCase(
        "Wales",
        "Cardiff approved premises",
        "inappropriate_allocation",
        "PSO keyworking residents subject to MAPPA",
        "A probation service officer has been asked to keyworker two MAPPA level 2 residents.",
        "PSO",
        None,
        None,
        (MAPPA, HIGH),
        "high",
        "open",
        "DEMO-1007",
        WALES_REP,
        "Meet the approved premises manager",
        8,
        12,
    ),
    DemoCase(
        "Wales",
        "Cardiff and the Vale",
        "it_systems",
        "Case system outages losing recorded contacts",
        "Contacts entered in nDelius disappear after time-outs; staff re-type notes at home.",
        None,
        None,
        None,
        (),
        "normal",
        "reopened",
        None,
        WALES_REP,
        "Log a new IT ticket with examples",
        4,
        150,
        outcome="IT fixed the session time-out.",
    ),
    DemoCase(
        "Wales",
        "Swansea, Neath and Port Talbot",
        "recruitment_retention",
        "Three leavers in six months from one team",
        "Experienced officers are leaving for other work; exit interviews cite caseloads.",
        None,
        None,
        None,
        (),
        "normal",
        "open",
        None,
        WALES_REP,
        opened_days_ago=9,
    ),
    # West Midlands
    DemoCase(
        "West Midlands",
        "Staffordshire and West Midlands",
        "protected_caseload_breach",
        "Trainee between 130 and 150 % on the tool",
        "A trainee's workload swings between 130 % and 150 %; some colleagues are at 170 %.",
        "PQiP",
        150,
        44,
        (NQO, HIGH),
        "urgent",
        "in_progress",
        "DEMO-1008",
        MIDLANDS_REP,
        "Ask the SPO for a written workload plan",
        -1,
        50,
        consent=True,
    ),
    DemoCase(
        "West Midlands",
        "Warwickshire and West Mercia",
        "health_safety",
        "Foreseeability notices served over workloads",
        "Caseloads sit between 135 % and 145 %; staff have served foreseeability notices and want to "
        "know what happens next.",
        "PO",
        140,
        58,
        (HIGH,),
        "high",
        "escalated",
        "DEMO-1009",
        MIDLANDS_REP,
        "Chase management for a response to the notices",
        -5,
        70,
    ),
    DemoCase(
        "West Midlands",
        "Birmingham court team",
        "no_cover",
        "Court duty with nobody to cover sickness",
        "Two of five court staff are off sick and nobody has been moved in to cover.",
        None,
        None,
        None,
        (COVER,),
        "normal",
        "open",
        None,
        MIDLANDS_REP,
        "Request cover in writing",
        6,
        7,
    ),
    DemoCase(
        "West Midlands",
        "Staffordshire and West Midlands",
        "clinical_supervision",
        "Supervision cancelled for three months",
        "Officers holding high-risk cases have had no supervision since the summer.",
        "PO",
        130,
        None,
        (HIGH,),
        "normal",
        "resolved",
        None,
        MIDLANDS_REP,
        opened_days_ago=90,
        outcome="Monthly supervision restored and put in diaries to the end of the year.",
    ),
    # East Midlands
    DemoCase(
        "East Midlands",
        "Derbyshire",
        "inappropriate_allocation",
        "PSO holding domestic-abuse cases",
        "A PSO has been allocated several domestic-abuse cases after a transfer of work. PSOs are "
        "trained for low and medium risk.",
        "PSO",
        90,
        45,
        (DA,),
        "high",
        "in_progress",
        "DEMO-1010",
        MIDLANDS_REP,
        "Ask for the cases to be re-allocated to qualified officers",
        -4,
        35,
        consent=True,
    ),
    DemoCase(
        "East Midlands",
        "Nottingham City",
        "sfo_inquest_support",
        "Officer facing an SFO review alone",
        "A probation officer on 130 % is the subject of a serious further offence review and has been "
        "told to expect an inquest. She fears being blamed for a system failure.",
        "PO",
        130,
        60,
        (HIGH,),
        "urgent",
        "escalated",
        "DEMO-1011",
        MIDLANDS_REP,
        "Arrange legal representation through the union",
        2,
        55,
        notes=(("call", 50, "Long call: the member has not slept properly since the review began."),),
    ),
    DemoCase(
        "East Midlands",
        "Northampton IOM",
        "no_cover",
        "IOM unit with 1.6 officers for MAPPA-heavy caseload",
        "Half the unit's cases are MAPPA or high risk of harm and there are 1.6 officers to hold them.",
        "PO",
        160,
        70,
        (MAPPA, HIGH, COVER),
        "urgent",
        "open",
        "DEMO-1012",
        MIDLANDS_REP,
        "Put the staffing figures to the regional director",
        -8,
        21,
    ),
    DemoCase(
        "East Midlands",
        "Derbyshire",
        "excessive_workload",
        "Ninety cases to share between eight PSOs",
        "PSOs already at 90 % have been told to absorb another ninety cases between them.",
        "PSO",
        90,
        None,
        (),
        "normal",
        "closed",
        None,
        MIDLANDS_REP,
        opened_days_ago=180,
        outcome="Allocation spread over three months and two agency staff brought in.",
    ),
    # South West
    DemoCase(
        "South West",
        "Avon and Somerset",
        "no_cover",
        "Lone officer with 80+ high-risk cases",
        "The office has one probation officer holding more than eighty high-risk cases, with no cover for "
        "leave or sickness and no colleague to talk risk through with.",
        "PO",
        170,
        82,
        (HIGH, COVER),
        "urgent",
        "escalated",
        "DEMO-1013",
        None,
        "Escalate to the regional health and safety committee",
        -10,
        65,
        consent=True,
    ),
    DemoCase(
        "South West",
        "Gloucestershire",
        "no_cover",
        "Programme team too small to cover leave",
        "Six staff deliver a treatment programme across three areas; any absence cancels sessions.",
        None,
        None,
        None,
        (COVER,),
        "normal",
        "open",
        "DEMO-1017",
        None,
        opened_days_ago=14,
    ),
    DemoCase(
        "South West",
        None,
        "unallocated_cases",
        "Fifty unallocated cases including high risk",
        "About fifty cases have no officer, at least one of them assessed as high risk of harm.",
        None,
        None,
        None,
        (HIGH,),
        "high",
        "in_progress",
        None,
        None,
        "Ask for the list of unallocated cases",
        -2,
        28,
    ),
    # East of England
    DemoCase(
        "East of England",
        "Cambridge",
        "relocation_travel",
        "Relocated to an 80-mile round trip",
        "Staff moved to fit a new model now travel about eighty miles a day, unpaid, to their new base.",
        "PO",
        None,
        None,
        (),
        "normal",
        "in_progress",
        "DEMO-1014",
        None,
        "Claim excess travel under the relocation policy",
        12,
        40,
    ),
    DemoCase(
        "East of England",
        "Norfolk and Suffolk",
        "pay",
        "Weekend overtime to clear report backlog",
        "Officers are offered fixed weekend payments to write pre-sentence reports.",
        None,
        None,
        None,
        (),
        "low",
        "open",
        None,
        None,
        opened_days_ago=5,
    ),
    # Yorkshire and the Humber
    DemoCase(
        "Yorkshire and the Humber",
        "North Yorkshire",
        "unallocated_cases",
        "Domestic-abuse cases found with no offender manager",
        "Some sixty domestic-abuse cases were found filed away with no offender manager attached.",
        None,
        None,
        None,
        (DA, HIGH),
        "urgent",
        "escalated",
        None,
        None,
        "Demand an audit of all unallocated files",
        -15,
        80,
    ),
    DemoCase(
        "Yorkshire and the Humber",
        "South Yorkshire",
        "excessive_workload",
        "SPO named on 291 cases she does not manage",
        "Hundreds of cases are allocated to a senior probation officer in name only.",
        "SPO",
        None,
        291,
        (HIGH,),
        "high",
        "open",
        "DEMO-1015",
        None,
        "Ask for the cases to be allocated properly",
        9,
        18,
    ),
    # North West
    DemoCase(
        "North West",
        "Cumbria",
        "inappropriate_allocation",
        "Case transfer leaves PSOs with DV cases",
        "A transfer of three hundred cases has left PSOs holding domestic-violence cases.",
        "PSO",
        115,
        50,
        (DA,),
        "high",
        "in_progress",
        "DEMO-1016",
        None,
        "Meet the head of operations",
        -3,
        33,
    ),
    DemoCase(
        "North West",
        "Cumbria",
        "facilities",
        "Office heating broken through winter",
        "The office has had no heating for three weeks; interviews are held in coats.",
        None,
        None,
        None,
        (),
        "normal",
        "resolved",
        None,
        None,
        opened_days_ago=45,
        outcome="Boiler replaced.",
    ),
    # Greater Manchester
    DemoCase(
        "Greater Manchester",
        "Manchester North",
        "excessive_workload",
        "Whole team over 120 %",
        "Every officer in the team is above 120 % and sickness absence is rising.",
        "PO",
        128,
        55,
        (HIGH,),
        "high",
        "open",
        None,
        None,
        "Survey the team's WMT figures",
        7,
        11,
    ),
    DemoCase(
        "Greater Manchester",
        "Manchester North",
        "disciplinary",
        "Disciplinary after missed appointment on a 140 % caseload",
        "A member faces a disciplinary for a missed home visit while at 140 % of the tool.",
        "PO",
        140,
        63,
        (HIGH,),
        "urgent",
        "in_progress",
        None,
        None,
        "Prepare for the investigation meeting",
        1,
        19,
    ),
    # Kent, Surrey and Sussex
    DemoCase(
        "Kent, Surrey and Sussex",
        "Kent",
        "recruitment_retention",
        "New recruits leaving within two years",
        "Most officers recruited in the last drive have already left or asked to reduce hours.",
        None,
        None,
        None,
        (),
        "normal",
        "open",
        None,
        None,
        opened_days_ago=20,
    ),
    DemoCase(
        "Kent, Surrey and Sussex",
        "Kent",
        "sfo_inquest_support",
        "No management support at an inquest",
        "An officer was sent to give evidence at an inquest with no senior manager present.",
        "PO",
        None,
        None,
        (HIGH,),
        "high",
        "closed",
        None,
        None,
        opened_days_ago=240,
        outcome="The union funded representation; the service agreed a senior manager will attend future inquests.",
    ),
    # North East
    DemoCase(
        "North East",
        "Tyneside",
        "it_systems",
        "Laptops too slow to open OASys",
        "Assessments take twice as long because the laptops freeze opening OASys.",
        None,
        None,
        None,
        (),
        "low",
        "in_progress",
        None,
        None,
        "Collect examples with dates",
        14,
        26,
    ),
    DemoCase(
        "North East",
        "Tyneside",
        "health_safety",
        "Lone working at night without a buddy system",
        "Staff do late home visits with no check-in arrangement.",
        None,
        None,
        None,
        (HIGH,),
        "high",
        "open",
        None,
        None,
        "Ask for the lone-working policy",
        -1,
        16,
    ),
    # South Central
    DemoCase(
        "South Central",
        "Hampshire",
        "excessive_workload",
        "Reports on top of a full caseload",
        "Officers are writing two pre-sentence reports a week on top of a caseload already over 110 %.",
        "PO",
        112,
        48,
        (),
        "normal",
        "open",
        None,
        None,
        opened_days_ago=8,
    ),
    DemoCase(
        "South Central",
        "Hampshire",
        "clinical_supervision",
        "No reflective practice for MAPPA cases",
        "Officers managing MAPPA cases have had no reflective supervision this year.",
        "PO",
        118,
        None,
        (MAPPA,),
        "normal",
        "in_progress",
        None,
        None,
        "Raise at the staff forum",
        20,
        37,
    ),
    # more London and Wales, so each demo rep has a full list
    DemoCase(
        "London",
        "London IOM",
        "no_cover",
        "Only officer in the team on long-term leave",
        "With the team's one qualified officer on leave, PSOs are holding her high-risk cases.",
        "PSO",
        135,
        47,
        (HIGH, COVER),
        "high",
        "in_progress",
        None,
        LONDON_REP,
        "Ask for temporary cover from the PDU pool",
        -2,
        22,
    ),
    DemoCase(
        "London",
        "London PDU",
        "pay",
        "Acting-up not paid for six months",
        "A PSO has covered a PO's role since the spring without the acting-up allowance.",
        "PSO",
        None,
        None,
        (),
        "normal",
        "open",
        None,
        LONDON_REP,
        "Submit the claim to HR",
        15,
        6,
    ),
    DemoCase(
        "Wales",
        "Cardiff and the Vale",
        "relocation_travel",
        "Office move adds an hour each way",
        "Staff have been told the office will move to the other side of the city with no travel support.",
        None,
        None,
        None,
        (),
        "low",
        "open",
        None,
        WALES_REP,
        opened_days_ago=3,
    ),
    DemoCase(
        "Wales",
        "Cardiff approved premises",
        "health_safety",
        "Night shifts staffed by one worker",
        "Night shifts at the approved premises are regularly left to one member of staff.",
        "PSO",
        None,
        None,
        (HIGH, COVER),
        "urgent",
        "escalated",
        None,
        WALES_REP,
        "Serve a foreseeability notice on the area manager",
        -4,
        48,
    ),
]

STATUS_PATHS = {
    "open": (),
    "in_progress": ("in_progress",),
    "escalated": ("in_progress", "escalated"),
    "resolved": ("in_progress", "resolved"),
    "closed": ("in_progress", "resolved", "closed"),
    "reopened": ("in_progress", "resolved", "closed", "reopened"),
}


def _unit(region: Region, name: str | None) -> Unit | None:
    if name is None:
        return None
    return next((unit for unit in region.units if unit.name == name), None)


def _load_members(actor: User, echo: Callable[[str], None]) -> dict[str, Member]:
    members: dict[str, Member] = {}
    added = 0
    for number, (name, region_name, unit_name, grade) in MEMBERS.items():
        member = member_with_number(number)
        region = region_by_name(region_name)
        if member is None and region is not None:
            unit = _unit(region, unit_name)
            slug = name.lower().replace(" ", ".").replace("-", ".")
            member = create_member(
                actor,
                region_id=region.id,
                unit_id=unit.id if unit else None,
                name=name,
                membership_number=number,
                email=f"{slug}@members.example.org",
                phone=f"07700 900{int(number[-3:]):03d}",
                grade=grade,
            )
            added += 1
        if member is not None:
            members[number] = member
    echo(f"  members: {added} added, {len(members) - added} already there")
    return members


def load(echo: Callable[[str], None]) -> None:
    """Add the demo members and cases that are missing."""
    actor = user_by_email(ADMIN)
    if actor is None:
        echo("  cases: skipped (no demo admin)")
        return
    members = _load_members(actor, echo)
    today = clock.today()
    added = 0
    for spec in CASES:
        region = region_by_name(spec.region)
        if region is None:
            continue
        if db.session.scalar(select(Case.id).where(Case.region_id == region.id, Case.title == spec.title)):
            continue
        rep = user_by_email(spec.rep) if spec.rep else None
        author = rep or actor
        unit = _unit(region, spec.unit)
        member = members.get(spec.member) if spec.member else None
        opened_on = today - timedelta(days=spec.opened_days_ago)
        case = create_case(
            author,
            region_id=region.id,
            unit_id=unit.id if unit else None,
            member_id=member.id if member else None,
            category=spec.category,
            title=spec.title,
            description=spec.description,
            grade=spec.grade,
            wmt_percent=spec.wmt,
            caseload=spec.caseload,
            **{flag: True for flag in spec.flags},
            priority=spec.priority,
            assigned_rep_id=rep.id if rep else None,
            next_action=spec.next_action,
            next_action_on=today + timedelta(days=spec.due_in_days) if spec.due_in_days is not None else None,
            has_evidence_consent=spec.consent,
            opened_on=opened_on,
        )
        for kind, days_ago, text in spec.notes:
            add_entry(author, case, kind=kind, happened_on=today - timedelta(days=days_ago), body=text)
        for status in STATUS_PATHS[spec.status]:
            outcome = spec.outcome or "Resolved with management." if status == "resolved" else None
            change_status(author, case, status, outcome=outcome)
        added += 1
    db.session.flush()
    echo(f"  cases: {added} added, {len(CASES) - added} already there")
