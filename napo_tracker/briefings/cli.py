"""`flask briefings list` and `flask briefings render REF -o FILE.pdf [--published]`."""

from __future__ import annotations

from pathlib import Path

import click

from ..audit.models import AuditAction, record
from ..extensions import db
from ..pdf import PDFRenderError
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
            html = svc.render_briefing_html(briefing)
            bar.update(1)
            try:
                from ..pdf import html_to_pdf

                pdf = html_to_pdf(html)
            except PDFRenderError as error:
                raise click.ClickException(str(error)) from error
            bar.update(1)
        record(None, AuditAction.BRIEFING_RENDERED, briefing, version=briefing.draft_version, via="cli")
        db.session.commit()
    Path(output).write_bytes(pdf)
    click.echo(f"Wrote {len(pdf):,} bytes to {output}")
