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


# ---- cases
# Imported here, with their section, so each domain's builders stay together.
from typing import Any  # noqa: E402

from napo_tracker.cases.models import Case, CaseAttachment, Member  # noqa: E402
from napo_tracker.cases.services import add_attachment, create_case, create_member  # noqa: E402


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
