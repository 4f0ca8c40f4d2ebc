"""`flask demo load`: demo data built from the seeds, safe to run again and again.

Each domain has a ``demo.py`` with ``load(echo)``; they run in the order below, each
adding only what is missing, inside one transaction.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .audit.models import AuditAction, record
from .extensions import db

demo_cli = AppGroup("demo", help="Demo data for trying napo-tracker out.")

# The probation regions of England and Wales, and the units the seeds name.
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

# (email, name, role, regions, password): printed by the command, never for production.
DEMO_USERS = [
    ("admin@demo.napo-tracker.test", "Alex Admin", "admin", [], "demo-admin-pass-1"),
    ("official@demo.napo-tracker.test", "Nia National-Official", "official", [], "demo-official-pass-1"),
    ("rep.london@demo.napo-tracker.test", "Sam London-Rep", "rep", ["London"], "demo-rep-pass-1"),
    ("rep.wales@demo.napo-tracker.test", "Rhys Wales-Rep", "rep", ["Wales"], "demo-rep-pass-2"),
    (
        "rep.midlands@demo.napo-tracker.test",
        "Priya Midlands-Rep",
        "rep",
        ["West Midlands", "East Midlands"],
        "demo-rep-pass-3",
    ),
]


def load_regions(echo) -> None:
    from .regions.models import Region, Unit, region_by_name

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


def load_users(echo) -> None:
    from .accounts.models import user_by_email
    from .accounts.services import create_user
    from .regions.models import region_by_name

    for email, name, role, regions, password in DEMO_USERS:
        if user_by_email(email) is None:
            create_user(
                None,
                email=email,
                display_name=name,
                role=role,
                password=password,
                regions=[region_by_name(r) for r in regions],
            )
    db.session.flush()


def domain_loaders():
    from .briefings import demo as briefings_demo
    from .cases import demo as cases_demo
    from .evidence import demo as evidence_demo
    from .notices import demo as notices_demo
    from .testimonies import demo as testimonies_demo

    return [
        load_regions,
        load_users,
        testimonies_demo.load,
        evidence_demo.load,
        cases_demo.load,
        notices_demo.load,
        briefings_demo.load,
    ]


def _row_counts() -> dict[str, int]:
    from sqlalchemy import func, select

    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) for table in db.metadata.sorted_tables
    }


@demo_cli.command("load")
def load_command() -> None:
    """Load demo regions, users and records built from the seeds (idempotent)."""
    if current_app.config["CONFIG_NAME"] == "production":
        raise click.ClickException("demo data is never loaded under the production configuration")
    click.echo("Loading demo data…")
    try:
        before = _row_counts()
        for loader in domain_loaders():
            loader(click.echo)
        db.session.flush()
        added = {
            name: count - before.get(name, 0) for name, count in _row_counts().items() if count != before.get(name, 0)
        }
        if added:  # a second run adds nothing, not even an audit entry
            record(None, AuditAction.DEMO_LOADED, None, added=added)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(
        "Added " + ", ".join(f"{n} {name}" for name, n in sorted(added.items()))
        if added
        else "Nothing to add: the demo data was already loaded."
    )
    click.echo("\nDemo accounts (for trying the app out only):")
    for email, _name, role, regions, password in DEMO_USERS:
        where = ", ".join(regions) or "all regions"
        click.echo(f"  {role:<9} {email:<40} password: {password:<22} ({where})")
