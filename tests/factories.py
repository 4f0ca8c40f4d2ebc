"""Records for tests, made through the same services the app uses, and committed."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from napo_tracker.accounts.models import User
from napo_tracker.accounts.services import create_user
from napo_tracker.extensions import db
from napo_tracker.regions.models import Region, Unit

PASSWORD = "correct horse battery staple"
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
) -> User:
    email = email or f"{role}{next(_seq)}@example.org"
    user = create_user(
        None,
        email=email,
        display_name=display_name or email.split("@")[0],
        role=role,
        password=password,
        regions=list(regions),
    )
    db.session.commit()
    return user


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


# ---- briefings
# Imported here, with their section, so each domain's builders stay together.
from datetime import date  # noqa: E402

from napo_tracker.briefings import services as briefing_services  # noqa: E402
from napo_tracker.briefings.models import Briefing, BriefingQuestion, BriefingSection, Question  # noqa: E402


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
