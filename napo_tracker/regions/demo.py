"""Demo regions and units: the probation regions of England and Wales, and the units the seeds name."""

from __future__ import annotations

from collections.abc import Callable

from ..extensions import db
from .models import Region, Unit, region_by_name

REGIONS: dict[str, list[tuple[str, str]]] = {
    "East Midlands": [("Derbyshire", "pdu"), ("Northampton IOM", "iom_team"), ("Nottingham City", "pdu")],
    "East of England": [("Cambridge", "office"), ("Norfolk and Suffolk", "pdu")],
    "Greater Manchester": [("Manchester North", "pdu")],
    "Kent, Surrey and Sussex": [("Kent", "pdu")],
    "London": [("London PDU", "pdu"), ("London IOM", "iom_team"), ("Westminster court team", "court_team")],
    "North East": [("Tyneside", "pdu")],
    "North West": [("Cumbria", "pdu")],
    "South Central": [("Hampshire", "pdu")],
    "South West": [("Avon and Somerset", "pdu"), ("Gloucestershire", "pdu")],
    "Wales": [
        ("Cardiff and the Vale", "pdu"),
        ("Swansea, Neath and Port Talbot", "pdu"),
        ("Cardiff approved premises", "approved_premises"),
    ],
    "West Midlands": [
        ("Staffordshire and West Midlands", "pdu"),
        ("Warwickshire and West Mercia", "pdu"),
        ("Birmingham court team", "court_team"),
    ],
    "Yorkshire and the Humber": [("North Yorkshire", "pdu"), ("South Yorkshire", "pdu")],
}


def load(echo: Callable[[str], None]) -> None:
    for region_name, units in REGIONS.items():
        region = region_by_name(region_name)
        if region is None:
            region = Region(name=region_name)
            db.session.add(region)
            db.session.flush()
        existing = {unit.name for unit in region.units}
        for unit_name, kind in units:
            if unit_name not in existing:
                db.session.add(Unit(region=region, name=unit_name, kind=kind))
    db.session.flush()
    echo(f"  regions: {len(REGIONS)}, units: {sum(len(u) for u in REGIONS.values())}")
