"""``flask cases remind [--dry-run]``: the daily deadline reminders, for cron without Redis."""

from __future__ import annotations

from datetime import date

import click

from ..kernel.clock import as_of_option
from ..kernel.transaction import transactional
from ..mail import MailError
from ..notifications.services import deliver_pending
from . import bp
from .deadlines import due_reminders, remind_message, send_deadline_reminders


@bp.cli.command("remind")
@click.option("--dry-run", is_flag=True, help="List who would be reminded of what; tell no one, send nothing.")
@as_of_option
@transactional
def remind_command(dry_run: bool, day: date) -> None:
    """Remind each rep of their cases' deadlines: coming up, due today or overdue (each once)."""
    if dry_run:
        reminders = due_reminders(day)
        for reminder in reminders:
            click.echo(f"would remind {reminder.rep.email}: {remind_message(reminder)}")
        click.echo(f"Dry run: {len(reminders)} reminder(s) due on {day:%Y-%m-%d}; nothing told or sent.")
        return
    told = send_deadline_reminders(day)
    try:
        sent = deliver_pending()
    except MailError as error:
        raise click.ClickException(
            f"E-mails stopped: {error}. The reminders are in the inboxes; the e-mails not yet sent wait "
            "for the next run (fix NAPO_MAIL_* and run `flask notifications send`)."
        ) from error
    click.echo(f"{told} reminder(s) in inboxes for {day:%Y-%m-%d}; {sent.emails} e-mail(s) sent.")
