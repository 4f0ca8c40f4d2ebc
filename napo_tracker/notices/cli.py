"""``flask notices remind [--dry-run]``: the daily reminder run, for cron."""

from __future__ import annotations

from datetime import date, datetime

import click

from ..kernel.clock import today
from ..kernel.transaction import transactional
from . import bp
from .reminders import MailError, due_reminders, send_reminders


@bp.cli.command("remind")
@click.option("--dry-run", is_flag=True, help="List who would be reminded; send nothing, mark nothing.")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Pretend today is this day (YYYY-MM-DD).",
)
@transactional
def remind_command(dry_run: bool, on: datetime | None) -> None:
    """E-mail each rep their foreseeability notices that are due soon or overdue."""
    day: date = on.date() if on else today()
    reminders = due_reminders(day)
    if not reminders:
        click.echo(f"No reminders to send for {day:%Y-%m-%d}.")
        return
    if dry_run:
        for reminder in reminders:
            refs = ", ".join(n.reference for n in reminder.notices)
            click.echo(f"would remind {reminder.rep.email}: {refs}")
        click.echo(f"Dry run: {len(reminders)} e-mail(s) not sent, nothing marked.")
        return
    try:
        with click.progressbar(length=len(reminders), label="Sending reminders") as bar:
            result = send_reminders(day, progress=bar.update)
    except MailError as error:
        raise click.ClickException(
            f"Reminders stopped: {error}. Notices not yet e-mailed are not marked as sent; "
            "fix the mail settings (NAPO_MAIL_*) and run again."
        ) from error
    click.echo(f"Sent {result.sent} reminder e-mail(s) covering {result.notices} notice(s).")
