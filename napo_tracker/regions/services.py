"""Regions and units: created and renamed by admins only."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..audit.models import AuditAction, record
from ..extensions import db
from ..kernel.errors import DomainError
from .models import Region, Unit, UnitKind
from .scoping import RegionalUser, scope_to_regions


class RegionError(DomainError):
    """A region or unit change that breaks a rule; the message is shown to the user."""


class NotAnAdmin(RegionError):
    """Someone other than an admin reached for an admin's work on regions."""

    status_code = 403


def _require_admin(actor) -> None:
    """Regions and units are an admin's work; ``actor`` None is a command run on the server."""
    if actor is not None and not actor.is_admin:
        raise NotAnAdmin("Only admins add and change regions and units.")


def create_region(actor, name: str) -> Region:
    _require_admin(actor)
    name = name.strip()
    if db.session.scalar(select(Region.id).where(func.lower(Region.name) == name.lower())):
        raise RegionError(f"A region called {name} already exists.")
    region = Region(name=name)
    db.session.add(region)
    db.session.flush()
    record(actor, AuditAction.REGION_CREATED, region, name=name)
    return region


def rename_region(actor, region: Region, name: str) -> Region:
    _require_admin(actor)
    name = name.strip()
    clash = db.session.scalar(select(Region.id).where(func.lower(Region.name) == name.lower(), Region.id != region.id))
    if clash:
        raise RegionError(f"A region called {name} already exists.")
    old = region.name
    region.name = name
    db.session.flush()
    record(actor, AuditAction.REGION_CHANGED, region, old_name=old, name=name)
    return region


def _check_kind(kind: str) -> None:
    if not UnitKind.has_value(kind):
        raise RegionError(f"{kind!r} is not a kind of unit.", "kind")


def create_unit(actor, region: Region, name: str, kind: str) -> Unit:
    _require_admin(actor)
    name = name.strip()
    _check_kind(kind)
    if db.session.scalar(select(Unit.id).where(Unit.region_id == region.id, func.lower(Unit.name) == name.lower())):
        raise RegionError(f"{region.name} already has a unit called {name}.")
    unit = Unit(region=region, name=name, kind=kind)
    db.session.add(unit)
    db.session.flush()
    record(actor, AuditAction.UNIT_CREATED, unit, region=region.name, name=name, kind=kind)
    return unit


def update_unit(actor, unit: Unit, name: str, kind: str) -> Unit:
    _require_admin(actor)
    name = name.strip()
    _check_kind(kind)
    clash = db.session.scalar(
        select(Unit.id).where(
            Unit.region_id == unit.region_id, func.lower(Unit.name) == name.lower(), Unit.id != unit.id
        )
    )
    if clash:
        raise RegionError(f"{unit.region.name} already has a unit called {name}.")
    unit.name, unit.kind = name, kind
    db.session.flush()
    record(actor, AuditAction.UNIT_CHANGED, unit, name=name, kind=kind)
    return unit


def regions_by_ids(ids: list[int] | None) -> list[Region]:
    return list(db.session.scalars(select(Region).where(Region.id.in_(ids or []))))


def regions_for_choices() -> list[Region]:
    """Every region, by name."""
    return list(db.session.scalars(select(Region).order_by(Region.name)))


def regions_in_scope(user: RegionalUser) -> list[Region]:
    """The regions a user may see, by name: a rep's own, or every one."""
    return list(db.session.scalars(scope_to_regions(select(Region).order_by(Region.name), Region.id, user)))


def units_in_scope(user: RegionalUser) -> list[Unit]:
    """The units of the regions a user may see, each with its region loaded, by region and name."""
    stmt = select(Unit).join(Region).options(joinedload(Unit.region)).order_by(Region.name, Unit.name)
    return list(db.session.scalars(scope_to_regions(stmt, Unit.region_id, user)))
