"""`flask briefings list`, `flask briefings render REF -o FILE.pdf [--published]`, `flask briefings check REF`
and `flask briefings notify [--dry-run]`."""

from __future__ import annotations

from pathlib import Path

import click

from ..kernel.transaction import transactional
from ..mail import MailError
from . import bp
from . import services as svc
from .checks import run_checks
from .models import briefing_by_reference
from .withdrawals import notify_officials, versions_to_tell


@bp.cli.command("list")
def list_command() -> None:
    """One line per briefing: reference, status, title."""
    for briefing in svc.briefings_list():
        click.echo(f"{briefing.reference}\t{briefing.status}\t{briefing.title}")


@bp.cli.command("render")
@click.argument("reference")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Where to write the PDF.",
)
@click.option("--published", is_flag=True, help="Write the latest published version's stored PDF instead.")
@transactional
def render_command(reference: str, output: str, published: bool) -> None:
    """Render the current draft of REFERENCE to a PDF file (or copy the published one)."""
    briefing = briefing_by_reference(reference)
    if briefing is None:
        raise click.ClickException(f"no briefing {reference!r}; `flask briefings list` shows them")
    if published:
        version = briefing.latest_published
        if version is None:
            raise click.ClickException(f"{briefing.reference} has not been published yet")
        if version.is_erased:
            raise click.ClickException(
                f"{briefing.reference} version {version.number} (SHA-256 {version.sha256}) quoted a testimony "
                f"since withdrawn: its stored copy was erased on {version.pdf_erased_on}"
            )
        pdf = version.pdf
        click.echo(f"{briefing.reference} version {version.number}, SHA-256 {version.sha256}")
    else:
        with click.progressbar(length=2, label=f"Rendering {briefing.reference}") as bar:
            # Run on the server, by no account: the audit log says so.
            pdf = svc.render_draft_pdf(None, briefing, on_step=lambda: bar.update(1), via="cli")
    Path(output).write_bytes(pdf)
    click.echo(f"Wrote {len(pdf):,} bytes to {output}")


@bp.cli.command("check")
@click.argument("reference")
def check_command(reference: str) -> None:
    """Run the checks before publishing REFERENCE: one line per check ("BLOCKING: …" or
    "WARNING: …"); the exit status is 1 when any blocks publishing."""
    briefing = briefing_by_reference(reference)
    if briefing is None:
        raise click.ClickException(f"no briefing {reference!r}; `flask briefings list` shows them")
    checks = run_checks(briefing)
    for check in checks:
        click.echo(f"{'BLOCKING' if check.is_blocking else 'WARNING'}: {check.message}")
    blocking = sum(1 for check in checks if check.is_blocking)
    if not checks:
        click.echo(f"OK: {briefing.reference} passes every check.")
    if blocking:
        raise click.exceptions.Exit(1)


@bp.cli.command("notify")
@click.option("--dry-run", is_flag=True, help="List what would be e-mailed; send nothing, mark nothing.")
@transactional
def notify_command(dry_run: bool) -> None:
    """E-mail officials and admins about published versions that quote a testimony since
    withdrawn (references, dates and links only). Run it daily, for example from cron."""
    versions = versions_to_tell()
    if not versions:
        click.echo("No published version has a newly withdrawn testimony.")
        return
    for version in versions:
        click.echo(f"{version.briefing.reference} version {version.number}: a quoted testimony was withdrawn")
    if dry_run:
        click.echo(f"Dry run: {len(versions)} version(s) not e-mailed, nothing marked.")
        return
    try:
        told = notify_officials(versions)
    except MailError as error:
        raise click.ClickException(
            f"Nothing sent: {error}. Fix the mail settings (NAPO_MAIL_*) and run again."
        ) from error
    click.echo(f"E-mailed {told.people} official(s) and admin(s) about {told.versions} version(s).")
