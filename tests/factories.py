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


# ---- evidence
# Imported here, with their section, so each domain's builders stay together.
from datetime import date  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

from napo_tracker.evidence.models import EvidenceItem, Metric, metric_by_code  # noqa: E402
from napo_tracker.evidence.services import create_evidence, create_metric, verify_evidence  # noqa: E402

_evidence_seq = itertools.count(1)


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
