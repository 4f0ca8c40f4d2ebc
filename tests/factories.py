"""Records for tests, made through the same services the app uses, and committed."""

from __future__ import annotations

import hashlib
import io
import itertools
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypedDict, Unpack

import pyotp

from benchmarks import bulk
from napo_tracker.accounts.models import PasswordReset, User
from napo_tracker.accounts.services import create_user
from napo_tracker.accounts.sessions import start_session
from napo_tracker.api.services import create_token
from napo_tracker.briefings import services as briefing_services
from napo_tracker.briefings.models import Briefing, BriefingQuestion, BriefingSection, Question
from napo_tracker.cases.models import Case, CaseAttachment, Member
from napo_tracker.cases.services import add_attachment, create_case, create_member
from napo_tracker.crypto import encrypt_text
from napo_tracker.evidence.models import EvidenceItem, Metric, metric_by_code
from napo_tracker.evidence.services import create_evidence, create_metric, plain_decimal, verify_evidence
from napo_tracker.extensions import db
from napo_tracker.jobs.models import Job
from napo_tracker.kernel.clock import today, utcnow
from napo_tracker.notices import services as notice_services
from napo_tracker.notices.models import ForeseeabilityNotice
from napo_tracker.notices.services import NoticeDetails, new_calendar_token
from napo_tracker.privacy.services import make_export, record_request
from napo_tracker.regions.models import Region, Unit
from napo_tracker.testimonies.models import Testimony
from napo_tracker.testimonies.services import answer_follow_up, ask_follow_up, submit_testimony
from napo_tracker.testimonies.services import approve as approve_testimony

PASSWORD = "correct horse battery staple"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # the test accounts' authenticator app
_seq = itertools.count(1)


def make_region(name: str, units: tuple[tuple[str, str], ...] = ()) -> Region:
    region = Region(name=name)
    db.session.add(region)
    for unit_name, kind in units:
        db.session.add(Unit(region=region, name=unit_name, kind=kind))
    db.session.commit()
    return region


def make_user(
    role: str = "rep",
    regions: tuple[Region, ...] | list[Region] = (),
    email: str | None = None,
    password: str = PASSWORD,
    display_name: str | None = None,
    two_factor: bool | None = None,
) -> User:
    """An account made through the accounts service. Officials and admins have two-factor
    sign-in set up (``TOTP_SECRET``), as their roles require; ``two_factor`` says otherwise."""
    email = email or f"{role}{next(_seq)}@example.org"
    user = create_user(
        None,
        email=email,
        display_name=display_name or email.split("@")[0],
        role=role,
        password=password,
        regions=list(regions),
    )
    if two_factor if two_factor is not None else role in ("official", "admin"):
        user.totp_secret = encrypt_text(TOTP_SECRET)
        user.totp_enabled_at = utcnow()
    db.session.commit()
    return user


def totp_code(user: User) -> str:
    """The code the user's authenticator app shows now; the account forgets which step it last
    accepted, so a test may sign in again within the same thirty seconds."""
    user.totp_last_step = None
    db.session.commit()
    return pyotp.TOTP(TOTP_SECRET).now()


def unit(region: Region, name: str) -> Unit:
    return next(u for u in region.units if u.name == name)


@dataclass
class World:
    london: Region
    wales: Region
    london_rep: User
    wales_rep: User
    official: User
    admin: User


def make_world() -> World:
    london = make_region("London", (("London PDU", "pdu"), ("London IOM", "iom_team")))
    wales = make_region("Wales", (("Cardiff and the Vale", "pdu"), ("Swansea", "pdu")))
    return World(
        london=london,
        wales=wales,
        london_rep=make_user("rep", [london], email="rep.london@example.org"),
        wales_rep=make_user("rep", [wales], email="rep.wales@example.org"),
        official=make_user("official", email="official@example.org"),
        admin=make_user("admin", email="admin@example.org"),
    )


# ---- notices
# Imported here, with their section, so each domain's builders stay together.


def notice_details(region: Region, *, unit_id: int | None = None, **overrides: Any) -> NoticeDetails:
    """What a rep types into the notice form: an individual notice at 142.5 % of the WMT."""
    values: dict[str, Any] = dict(
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


def make_notice(
    user: User,
    region: Region,
    *,
    served_on: date | None = None,
    on: date | None = None,
    **details: Any,
) -> ForeseeabilityNotice:
    """A draft notice recorded by ``user``; served (letter frozen) on ``served_on`` when given, as if
    today were ``on`` (default: the later of ``served_on`` and today). Committed."""
    notice = notice_services.create_notice(user, notice_details(region, **details))
    if served_on is not None:
        notice_services.serve_notice(user, notice, served_on, on=on or max(served_on, today()))
    db.session.commit()
    return notice


def make_served_notice(
    user: User, region: Region, served_on: date, *, on: date | None = None, **details: Any
) -> ForeseeabilityNotice:
    """A notice served on ``served_on``: its response is due ten working days later."""
    return make_notice(user, region, served_on=served_on, on=on, **details)


# ---- testimonies
# Imported here, with their section, so each domain's builders stay together.


TESTIMONY_TEXT = "My caseload went from forty to sixty-five cases in three months and nobody covers leave."


class SubmissionOptions(TypedDict, total=False):
    """What a member may give with a testimony, and whether (and in what words) it is approved."""

    mps: bool  # consents to quotes to MPs
    press: bool  # consents to quotes to the press
    region: Region | None
    grade: str | None
    service_band: str | None
    topics: Sequence[str]
    approved_by: User | None  # an official approving it; left submitted when None
    public_text: str | None  # the approved words; the sent text when None


def make_testimony_with_code(text: str = TESTIMONY_TEXT, **options: Unpack[SubmissionOptions]) -> tuple[Testimony, str]:
    """A testimony sent through the member's service, with its receipt code; no consent unless
    given; approved through the officials' service when ``approved_by`` is given."""
    region = options.get("region")
    testimony, code = submit_testimony(
        text=text,
        region_id=region.id if region is not None else None,
        grade=options.get("grade"),
        service_band=options.get("service_band"),
        topics=options.get("topics", ()),
        has_mps_consent=options.get("mps", False),
        has_press_consent=options.get("press", False),
    )
    official = options.get("approved_by")
    if official is not None:
        approve_testimony(official, testimony, options.get("public_text") or text)
    db.session.commit()
    return testimony, code


def make_testimony(text: str = TESTIMONY_TEXT, **options: Unpack[SubmissionOptions]) -> Testimony:
    """A testimony as ``make_testimony_with_code`` makes it, when the test needs no code."""
    return make_testimony_with_code(text, **options)[0]


# ---- briefings
# Imported here, with their section, so each domain's builders stay together.


def make_briefing(
    author: User,
    *,
    title: str = "Workloads and staffing in probation",
    subtitle: str = "A briefing from the union for parliamentarians",
    audience: str = "mps",
    dated_on: date | None = None,
    signatory_name: str = "Jo Official",
    signatory_title: str = "National Official",
) -> Briefing:
    """A draft briefing started by ``author`` (an official or an admin) through the service:
    for MPs, titled and signed, dated today unless told otherwise, with no sections. Committed."""
    briefing = briefing_services.create_briefing(
        author,
        title=title,
        subtitle=subtitle,
        audience=audience,
        dated_on=dated_on,
        signatory_name=signatory_name,
        signatory_title=signatory_title,
    )
    db.session.commit()
    return briefing


def make_section(
    author: User, briefing: Briefing, *, kind: str = "free", heading: str = "", body: str = ""
) -> BriefingSection:
    """A section added at the end of ``briefing`` through the service (its heading the kind's
    name when none is given). Committed."""
    section = briefing_services.add_section(author, briefing, kind=kind, heading=heading, body=body)
    db.session.commit()
    return section


def make_question(
    author: User,
    *,
    text: str = "What are the target staffing numbers for each region?",
    topics: str | list[str] = "staffing",
) -> Question:
    """A question in the bank, written by ``author``. Committed."""
    question = briefing_services.create_question(author, text=text, topics=topics)
    db.session.commit()
    return question


def ask_question(
    author: User, briefing: Briefing, *, question: Question | None = None, text: str = ""
) -> BriefingQuestion:
    """A question asked in ``briefing``: a bank question, or one of its own words. Committed."""
    item = briefing_services.add_question(author, briefing, question=question, text=text)
    db.session.commit()
    return item


def make_publishable_briefing(author: User, *, sections: int = 1, paragraphs: int = 1) -> Briefing:
    """A draft nothing blocks: titled, signed, with ``sections`` free sections of ``paragraphs``
    paragraphs each (more of both: a slower render). Committed."""
    briefing = make_briefing(author)
    paragraph = (
        "Caseloads have become **dangerous** across England and Wales: officers hold far more "
        "cases than the workload management tool says is safe, and the gaps go unfilled. " * 6
    )
    for number in range(1, sections + 1):
        body = "\n\n".join([paragraph] * paragraphs)[:20_000]
        make_section(author, briefing, heading=f"Part {number}", body=body)
    return briefing


# ---- cases
# Imported here, with their section, so each domain's builders stay together.


def make_member(actor: User, region: Region, **fields: Any) -> Member:
    """A member of ``region`` recorded by ``actor`` through the casework service: Ada Example,
    a PO, with an e-mail and a phone unless told otherwise."""
    values: dict[str, Any] = {
        "unit_id": None,
        "name": "Ada Example",
        "membership_number": None,
        "email": "ada@example.org",
        "phone": "07700 900123",
        "grade": "PO",
    } | fields
    member = create_member(actor, region_id=region.id, **values)
    db.session.commit()
    return member


def make_case(actor: User, region: Region, **fields: Any) -> Case:
    """A case in ``region`` logged by ``actor`` through the casework service (so it has its
    reference, timeline and audit entry): a workload case unless told otherwise."""
    values: dict[str, Any] = {
        "category": "excessive_workload",
        "title": "Caseload far over the WMT",
        "description": "The member holds more cases than the tool allows.",
    } | fields
    case = create_case(actor, region_id=region.id, **values)
    db.session.commit()
    return case


def make_attachment(actor: User, case: Case, data: bytes, filename: str = "letter.pdf") -> CaseAttachment:
    """A file attached to ``case`` through the casework service: checked, stored and audited."""
    attachment = add_attachment(actor, case, filename=filename, data=data)
    db.session.commit()
    return attachment


_evidence_seq = itertools.count(1)


# ---- evidence


def make_metric(
    actor: User | None = None,
    *,
    code: str = "court_backlog",
    label: str | None = None,
    unit: str = "count",
    **fields: Any,
) -> Metric:
    """A metric defined through the evidence service (the stable ones, such as
    ``wmt_percent_avg``, are already there: the migrations seed them)."""
    metric = create_metric(actor, code=code, label=label or code.replace("_", " ").capitalize(), unit=unit, **fields)
    db.session.commit()
    return metric


def make_evidence(
    actor: User,
    *,
    region: Region | None = None,
    unit: Unit | str | None = None,
    metric: str | None = "wmt_percent_avg",
    value: str | Decimal | None = "120",
    as_of: date = date(2024, 1, 31),
    source_type: str = "rep_survey",
    source_title: str | None = None,
    is_verified: bool = False,
    **fields: Any,
) -> EvidenceItem:
    """An item recorded by ``actor`` through the evidence service: a figure of ``metric`` (a
    code; None with a ``statement`` for words only) for ``region`` (None: national) and
    ``unit`` (a unit of the region, or its name), verified by ``actor`` when ``is_verified``.

    Each item gets a source title of its own unless one is given, so two calls never make
    the same figure; ``fields`` are the service's other fields (statement, reporter_count,
    grade, visibility, source_publisher, source_date, ...).
    """
    if isinstance(unit, str):
        if region is None:
            raise ValueError("a unit by name needs its region")
        unit = next(u for u in region.units if u.name == unit)
    found = metric_by_code(metric) if metric else None
    if metric and found is None:
        raise ValueError(f"no metric {metric}: make it first (make_metric)")
    item = create_evidence(
        actor,
        region_id=region.id if region is not None else None,
        unit_id=unit.id if unit is not None else None,
        metric_id=found.id if found is not None else None,
        value=Decimal(value) if value is not None else None,
        as_of=as_of,
        source_type=source_type,
        source_title=source_title if source_title is not None else f"Test source no. {next(_evidence_seq)}",
        **fields,
    )
    if is_verified:
        verify_evidence(actor, item)
    db.session.commit()
    return item


def make_evidence_sample(world: World) -> dict[str, EvidenceItem]:
    """A few figures: London (a unit's five reports, and one person's WMT %), Wales, and national."""
    return {
        "london": make_evidence(world.official, region=world.london, unit="London PDU", value="150", reporter_count=5),
        "individual": make_evidence(
            world.official, metric="wmt_percent", region=world.london, unit="London PDU", value="118", grade="NQO"
        ),
        "wales": make_evidence(world.official, metric="staff_in_post", region=world.wales, value="24.43"),
        "national": make_evidence(world.official, metric="vacancies", value="615", as_of=date(2019, 6, 30)),
    }


# ---- a whole scene, for the security suite
# One of every record a page can open, in two regions, so every route of the app has a real
# record to address; built once per backend and copied for each test (tests/security/conftest.py).


@dataclass(frozen=True)
class Scene:
    """Ids and references of the scene's records (plain values: they outlive the session that
    made them). Region A is London, region B is Wales; ``*_b`` records are region B's."""

    london_id: int
    wales_id: int
    unit_id: int
    rep_a_id: int
    rep_b_id: int
    official_id: int
    admin_id: int
    member_a_id: int
    member_b_id: int
    case_a: str
    case_b: str
    attachment_a_id: int
    attachment_b_id: int
    notice_a: str
    notice_b: str
    evidence_a: str
    evidence_b: str
    evidence_national: str
    testimony_a: str
    testimony_b: str
    briefing: str
    section_id: int
    question_item_id: int
    bank_question_id: int
    api_token_id: int
    calendar_token: str
    rep_a_other_session_id: int
    reset_token: str
    batch: str
    rep_a_job_id: int
    testimony_a_id: int
    access_request: str


def make_scene() -> Scene:
    """Two regions, a user of each role, and one of every record, region A's made by rep A;
    a briefing (with a section, a chart, a testimony, evidence and questions) published once."""
    world = make_world()
    official = world.official
    member_a = make_member(world.london_rep, world.london, name="Ada Example")
    member_b = make_member(world.wales_rep, world.wales, name="Bryn Example", email="bryn@example.org")
    case_a = make_case(world.london_rep, world.london, member_id=member_a.id)
    case_b = make_case(world.wales_rep, world.wales, member_id=member_b.id)
    letter = b"Dear manager,\nThe caseload is unsafe.\n"
    attachment_a = make_attachment(world.london_rep, case_a, letter, "letter.txt")
    attachment_b = make_attachment(world.wales_rep, case_b, letter, "letter.txt")
    notice_a = make_notice(world.london_rep, world.london, served_on=date(2026, 1, 5), on=date(2026, 1, 6))
    notice_b = make_notice(world.wales_rep, world.wales)
    public: dict[str, Any] = {"visibility": "public", "as_of": date(2026, 1, 31)}
    evidence_a = make_evidence(world.london_rep, region=world.london, value="192", reporter_count=5, **public)
    evidence_b = make_evidence(world.wales_rep, region=world.wales, value="150", **public)
    national = make_evidence(official, metric="vacancies", value="615", **public)
    for item in (evidence_a, evidence_b, national):
        verify_evidence(official, item)
    testimony_a = make_testimony(
        "After twenty years I am leaving because the caseload is unsafe (my own words).",
        region=world.london,
        grade="PO",
        mps=True,
        approved_by=official,
        public_text="After twenty years I am leaving because the caseload is unsafe.",
    )
    testimony_b = make_testimony(region=world.wales, grade="PSO")
    notice_services.escalate_notice(
        world.london_rep, notice_a, "line_manager", date(2026, 1, 26), "No answer came.", on=date(2026, 1, 27)
    )
    follow_up = ask_follow_up(official, testimony_a, "Which office was this?")
    answer_follow_up(testimony_a, follow_up.id, "One of the busy ones.")

    briefing = make_briefing(official)
    section = make_section(
        official,
        briefing,
        kind="introduction",
        heading="Introduction",
        body=f"Caseloads are **dangerous**: London averages [={evidence_a.reference}] of the WMT.",
    )
    briefing_services.set_section_chart(
        official, section, metric_code="wmt_percent_avg", region_ids=[world.london.id], since_on=None
    )
    make_section(official, briefing, kind="staff_testimonies", heading="Staff testimonies")
    briefing_services.set_testimonies(official, briefing, [testimony_a.id])
    bank = make_question(official)
    asked = ask_question(official, briefing, question=bank)
    briefing_services.publish(official, briefing)

    token, _text = create_token(official, "laptop")
    calendar_token = new_calendar_token(world.london_rep)
    start_session(world.london_rep, user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
    other_session = world.london_rep.login_session
    assert other_session is not None
    # A live password-reset link of rep B's, as the e-mail would carry it (the table keeps its SHA-256);
    # it outlives the test session that copies the scene.
    reset_token, now = secrets.token_urlsafe(32), utcnow()
    db.session.add(
        PasswordReset(
            user_id=world.wales_rep.id,
            token_hash=hashlib.sha256(reset_token.encode()).hexdigest(),
            created_at=now,
            expires_at=now + timedelta(days=2),
        )
    )
    batch = _scene_batch(official)
    # A finished job rep A asked for (a job is shown to whoever asked, and to admins).
    job = Job(name="scene", subject="An export", status="done", requested_by_id=world.london_rep.id)
    db.session.add(job)
    access_request = record_request(world.admin, member_a, received_on=today(), received_via="letter")
    make_export(world.admin, access_request)
    db.session.commit()
    return Scene(
        london_id=world.london.id,
        wales_id=world.wales.id,
        unit_id=unit(world.london, "London PDU").id,
        rep_a_id=world.london_rep.id,
        rep_b_id=world.wales_rep.id,
        official_id=official.id,
        admin_id=world.admin.id,
        member_a_id=member_a.id,
        member_b_id=member_b.id,
        case_a=case_a.reference,
        case_b=case_b.reference,
        attachment_a_id=attachment_a.id,
        attachment_b_id=attachment_b.id,
        notice_a=notice_a.reference,
        notice_b=notice_b.reference,
        evidence_a=evidence_a.reference,
        evidence_b=evidence_b.reference,
        evidence_national=national.reference,
        testimony_a=testimony_a.reference,
        testimony_b=testimony_b.reference,
        briefing=briefing.reference,
        section_id=section.id,
        question_item_id=asked.id,
        bank_question_id=bank.id,
        api_token_id=token.id,
        calendar_token=calendar_token,
        rep_a_other_session_id=other_session.id,
        reset_token=reset_token,
        batch=batch,
        rep_a_job_id=job.id,
        testimony_a_id=testimony_a.id,
        access_request=access_request.reference,
    )


def _scene_batch(official: User) -> str:
    """An import batch of one London figure, through the real importer; its reference."""
    from napo_tracker.evidence.importer import import_csv

    rows = (
        "region,unit,metric,value,as_of,grade,source,source_ref,statement\n"
        "London,,vacancies,14.20,2025-03-31,,parliamentary answer,PQ 1234,\n"
    )
    report = import_csv(official, io.BytesIO(rows.encode()), filename="scene.csv")
    assert report.is_ok and report.batch_reference, report.errors
    return report.batch_reference


# ---- the seeds' figures (the union's briefing "Workloads and Staffing in Probation")
# Imported here, with their section, so each domain's builders stay together.

SEED_FIGURES = Path(__file__).resolve().parent.parent / "napo_tracker" / "evidence" / "demo_data" / "seed-figures.csv"


def import_seed_figures(actor: User | None) -> dict[tuple[str, str], EvidenceItem]:
    """The demo regions and units and the seeds' figures, imported through the real importer as
    one public, verified batch; the items by (metric code, value as written). Committed."""
    from napo_tracker.evidence.importer import ImportOptions, import_csv
    from napo_tracker.regions import demo as regions_demo

    regions_demo.load(lambda *_: None)
    with SEED_FIGURES.open("rb") as stream:
        report = import_csv(
            actor, stream, filename=SEED_FIGURES.name, options=ImportOptions(visibility="public", is_verified=True)
        )
    assert report.is_ok, report.errors
    db.session.commit()
    items = db.session.scalars(db.select(EvidenceItem).where(EvidenceItem.value.is_not(None))).all()
    return {(item.metric.code, plain_decimal(item.value, item.value_places)): item for item in items if item.metric}


# ---- many rows at once: the query-plan tests need tables the size PostgreSQL plans for


def bulk_cases(rng: random.Random, count: int, region_ids: Sequence[int], rep_ids: Sequence[int]) -> None:
    """``count`` generated cases spread like real ones (benchmarks/bulk.py), not committed."""
    bulk.add_cases(rng, count, region_ids, rep_ids)


def bulk_evidence(rng: random.Random, count: int, region_ids: Sequence[int]) -> None:
    """``count`` generated evidence items over ten years of every metric, not committed."""
    bulk.add_evidence(rng, count, region_ids)
