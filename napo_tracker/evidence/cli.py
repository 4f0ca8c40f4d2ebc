"""`flask evidence import FILE [--dry-run] [--public] [--verified] [--source S]`, and the batches."""

from __future__ import annotations

import os

import click

from ..kernel.transaction import transactional
from . import bp
from .importer import ImportOptions, import_csv
from .models import SourceType, Visibility
from .services import import_batches


@bp.cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--dry-run", is_flag=True, help="Check every row and report, but write nothing.")
@click.option(
    "--visibility",
    type=click.Choice([v.value for v in Visibility]),
    default="internal",
    show_default=True,
    help="Visibility of every item of the file: public ones may be cited in briefings.",
)
@click.option("--verified", is_flag=True, help="Mark every item verified at once (you checked the file).")
@click.option(
    "--source",
    "source_type",
    type=click.Choice([s.value for s in SourceType]),
    default=None,
    help="The source of every row whose source cell is empty.",
)
@click.option(
    "--publisher", default="", help="The publisher of the source, for every row (e.g. HM Prison and Probation Service)."
)
@transactional
def import_command(
    csv_file: str, dry_run: bool, visibility: str, verified: bool, source_type: str | None, publisher: str
) -> None:
    """Import evidence from CSV_FILE (a CSV, or an XLSX workbook of one sheet) as one batch:
    all rows or none; every bad row is listed by its line (row) number.

    A file of more than NAPO_IMPORT_MAX_ROWS rows (50,000 by default) is refused: split it.
    """
    size = os.path.getsize(csv_file)
    options = ImportOptions(
        visibility=visibility, is_verified=verified, source_type=source_type, source_publisher=publisher[:200]
    )
    # All or nothing: the importer has already rolled back a file it did not take whole.
    with open(csv_file, "rb") as stream, click.progressbar(length=size, label="Reading") as bar:
        report = import_csv(
            None, stream, filename=os.path.basename(csv_file), dry_run=dry_run, progress=bar.update, options=options
        )
    for error in report.errors:
        click.echo(f"{report.row_word} {error.line}: {error.reason}", err=True)
    if report.errors_not_listed:
        click.echo(f"… and {report.errors_not_listed:,} more bad rows not listed", err=True)
    click.echo(report.summary())
    if not report.is_ok:
        raise click.exceptions.Exit(1)


@bp.cli.command("batches")
def batches_command() -> None:
    """One line per import: reference, date, rows, file, verified or not, reverted or not."""
    for batch in import_batches():
        state = "reverted" if batch.is_reverted else ("verified" if batch.is_verified else "unverified")
        click.echo(
            f"{batch.reference}\t{batch.created_at:%Y-%m-%d}\t{batch.row_count}\t{batch.filename}\t"
            f"{batch.visibility}\t{state}"
        )
