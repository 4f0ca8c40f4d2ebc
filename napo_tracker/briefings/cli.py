"""`flask briefings list` and `flask briefings render REF -o FILE.pdf [--published]`."""

from __future__ import annotations

from pathlib import Path

import click

from ..kernel.transaction import transactional
from . import bp
from . import services as svc
from .models import briefing_by_reference


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
        pdf = version.pdf
        click.echo(f"{briefing.reference} version {version.number}, SHA-256 {version.sha256}")
    else:
        with click.progressbar(length=2, label=f"Rendering {briefing.reference}") as bar:
            # Run on the server, by no account: the audit log says so.
            pdf = svc.render_draft_pdf(None, briefing, on_step=lambda: bar.update(1), via="cli")
    Path(output).write_bytes(pdf)
    click.echo(f"Wrote {len(pdf):,} bytes to {output}")
