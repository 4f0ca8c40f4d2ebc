"""`flask testimonies purge`: erase members' original words once the retention period is over."""

from __future__ import annotations

import click

from ..kernel import clock
from ..kernel.transaction import transactional
from . import bp
from .services import erase_original, originals_due_for_erasure, retention_period


@bp.cli.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Erase originals decided at least this many days ago "
    "(default: the retention schedule's testimony_originals period, 30 days unless set).",
)
@click.option("--dry-run", is_flag=True, help="Count what would be erased; change nothing.")
@transactional
def purge_command(days: int | None, dry_run: bool) -> None:
    """Erase the original text (and answers) of testimonies decided before the retention period.

    The approved public text stays. `flask retention apply` does the same as part of the whole
    retention schedule; this command stays for crontabs that call it. Every erasure of a run is
    kept together or, if one fails, none is.
    """
    period = str(retention_period()) if days is None else f"{days} days"
    today = clock.today()
    due = originals_due_for_erasure(today, days=days)
    if dry_run:
        click.echo(f"{len(due)} original(s) decided {period} or more ago would be erased.")
        return
    with click.progressbar(due, label="Erasing originals", show_pos=True) as bar:
        for testimony in bar:
            erase_original(None, testimony, today)
    click.echo(f"Erased {len(due)} original(s) decided {period} or more ago.")
