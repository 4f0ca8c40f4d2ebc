"""``flask notices remind [--dry-run]``: the daily reminder run, for cron."""

from __future__ import annotations

from datetime import date

import click

from ..kernel.clock import as_of_option
from ..kernel.transaction import transactional
from . import bp
from .escalation import escalation_mode, overdue_unanswered, run_escalation
from .reminders import MailError, due_reminders, send_reminders


@bp.cli.command("remind")
@click.option("--dry-run", is_flag=True, help="List who would be reminded; send nothing, mark nothing.")
@as_of_option
@transactional
def remind_command(dry_run: bool, day: date) -> None:
    """E-mail each rep their foreseeability notices that are due soon or overdue."""
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


@bp.cli.command("escalate")
@click.option("--dry-run", is_flag=True, help="List the notices that would move; move nothing, tell no one.")
@as_of_option
@transactional
def escalate_command(dry_run: bool, day: date) -> None:
    """Move each overdue notice with no response to its next rung (or ask its rep to, as
    NAPO_NOTICE_ESCALATION says), telling the rep, the region's officials and its branch contact."""
    mode = escalation_mode()
    if dry_run:
        found = overdue_unanswered(day)
        for item in found:
            verb = "would move" if mode == "automatic" else "would ask to move"
            click.echo(f"{verb} {item.notice.reference} (due {item.due_on:%Y-%m-%d}) to {item.next_step}")
        click.echo(f"Dry run: {len(found)} overdue notice(s) with no response; nothing changed.")
        return
    try:
        run = run_escalation(day)
    except MailError as error:
        raise click.ClickException(
            f"E-mails stopped: {error}. The escalations made are kept and in the inboxes; fix the mail "
            "settings (NAPO_MAIL_*) and run `flask notifications send`."
        ) from error
    for line in run.moved:
        click.echo(f"escalated {line}")
    for line in run.asked:
        click.echo(f"asked the rep to escalate {line}")
    click.echo(
        f"{len(run.moved)} notice(s) escalated, {len(run.asked)} rep(s) asked, "
        f"{run.branch_emails} branch contact(s) e-mailed."
    )
