"""`flask demo load`: demo data built from the seeds, safe to run again and again.

Each domain has a ``demo.py`` with ``load(echo)``; they run in the order below, each
adding only what is missing, inside one transaction.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from .accounts import demo as accounts_demo
from .audit.models import AuditAction, record
from .extensions import db
from .kernel.transaction import command_transaction

demo_cli = AppGroup("demo", help="Demo data for trying napo-tracker out.")


def domain_loaders():
    from .briefings import demo as briefings_demo
    from .cases import demo as cases_demo
    from .evidence import demo as evidence_demo
    from .letters import demo as letters_demo
    from .notices import demo as notices_demo
    from .regions import demo as regions_demo
    from .testimonies import demo as testimonies_demo

    return [
        regions_demo.load,
        accounts_demo.load,
        testimonies_demo.load,
        evidence_demo.load,
        cases_demo.load,
        notices_demo.load,
        briefings_demo.load,
        letters_demo.load,
    ]


def _row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
    }


@demo_cli.command("load")
def load_command() -> None:
    """Load demo regions, users and records built from the seeds (idempotent)."""
    if current_app.config["CONFIG_NAME"] == "production":
        raise click.ClickException("demo data is never loaded under the production configuration")
    click.echo("Loading demo data…")
    with command_transaction():
        before = _row_counts()
        for loader in domain_loaders():
            loader(click.echo)
        db.session.flush()
        added = {
            name: count - before.get(name, 0) for name, count in _row_counts().items() if count != before.get(name, 0)
        }
        if added:  # a second run adds nothing, not even an audit entry
            record(None, AuditAction.DEMO_LOADED, None, added=added)
    click.echo(
        "Added " + ", ".join(f"{n} {name}" for name, n in sorted(added.items()))
        if added
        else "Nothing to add: the demo data was already loaded."
    )
    click.echo("\nDemo accounts (for trying the app out only):")
    for email, _name, role, regions, password in accounts_demo.DEMO_USERS:
        where = ", ".join(regions) or "all regions"
        click.echo(f"  {role:<9} {email:<40} password: {password:<22} ({where})")
