"""`flask evidence import FILE.csv [--dry-run]`: bulk figures from a spreadsheet."""

from __future__ import annotations

import os

import click

from ..kernel.transaction import transactional
from . import bp
from .importer import import_csv


@bp.cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--dry-run", is_flag=True, help="Check every row and report, but write nothing.")
@transactional
def import_command(csv_file: str, dry_run: bool) -> None:
    """Import evidence from CSV_FILE: all rows or none; every bad row is listed by line.

    A file of more than NAPO_IMPORT_MAX_ROWS rows (50,000 by default) is refused: split it.
    """
    size = os.path.getsize(csv_file)
    # All or nothing: the importer has already rolled back a file it did not take whole.
    with open(csv_file, "rb") as stream, click.progressbar(length=size, label="Reading") as bar:
        report = import_csv(None, stream, filename=os.path.basename(csv_file), dry_run=dry_run, progress=bar.update)
    for error in report.errors:
        click.echo(f"line {error.line}: {error.reason}", err=True)
    if report.errors_not_listed:
        click.echo(f"… and {report.errors_not_listed:,} more bad rows not listed", err=True)
    click.echo(report.summary())
    if not report.is_ok:
        raise click.exceptions.Exit(1)
