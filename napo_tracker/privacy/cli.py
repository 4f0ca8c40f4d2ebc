"""The commands of members' data protection, for admins on the server and for cron:

* ``flask members export MEMBERSHIP_NUMBER -o FILE.zip`` and ``flask members erase MEMBERSHIP_NUMBER``
* ``flask members remind [--dry-run]`` — subject access requests due within a week or overdue
* ``flask retention apply [--dry-run]``
* ``flask backup create PATH`` and ``flask backup restore PATH``
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask.cli import AppGroup

from ..audit.models import AuditAction, record
from ..kernel import clock
from ..kernel.transaction import command_transaction, transactional
from ..mail import MailError
from . import backups, retention
from . import services as svc
from .erasure import AccountChoice, reapply
from .tombstones import merge, read_ledger

members_cli = AppGroup("members", help="Members' data: subject access exports, erasure, and request reminders.")
retention_cli = AppGroup("retention", help="Apply the retention schedule (NAPO_RETENTION_SCHEDULE).")
backup_cli = AppGroup("backup", help="Encrypted backups of the database and the stored files.")


@members_cli.command("export")
@click.argument("membership_number")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="The ZIP file to write (a new file)."
)
@transactional
def export_command(membership_number: str, output: str) -> None:
    """Write everything held about one member (MEMBERSHIP_NUMBER, or a pseudonym such as M-0131)
    to a ZIP: a readable PDF summary, the same as JSON, and their files. Audited."""
    member = svc.find_member(membership_number)
    target = Path(output)
    if target.exists():
        raise click.ClickException(f"{target} already exists: choose a new file name.")
    data = svc.export_member(None, member)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    click.echo(f"Wrote the export of {member.pseudonym} ({len(data):,} bytes) to {target}.")
    click.echo("Read it before sending: attachments and letters are copies as stored, not redacted.")


@members_cli.command("erase")
@click.argument("membership_number")
@click.option(
    "--account",
    type=click.Choice([choice.value for choice in AccountChoice]),
    default=None,
    help="For a member who also holds an account: keep it, or deactivate it.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@transactional
def erase_command(membership_number: str, account: str | None, yes: bool) -> None:
    """Erase a member (MEMBERSHIP_NUMBER, or a pseudonym such as M-0131): their identifying
    details and attachments go; their cases and notices stay as anonymised facts. Cannot be undone."""
    member = svc.find_member(membership_number)
    plan = svc.preview_erasure(None, member)
    for line in plan.lines():
        click.echo(f"  {line}")
    if not yes:
        click.confirm(f"Erase {member.pseudonym}? This cannot be undone", abort=True)
    svc.erase(None, member, account=account)
    click.echo(f"Erased {member.pseudonym}. Their files are removed now that the change is saved.")


@members_cli.command("remind")
@click.option("--dry-run", is_flag=True, help="List what would be sent; send nothing, mark nothing.")
@transactional
def remind_command(dry_run: bool) -> None:
    """E-mail admins about subject access requests due within a week or overdue (once a day)."""
    today = clock.today()
    due = svc.requests_needing_reminder(today)
    if not due:
        click.echo("No subject access request needs a reminder today.")
        return
    for request in due:
        click.echo(
            f"{request.reference} due {request.due_on:%Y-%m-%d}{' OVERDUE' if request.is_overdue(today) else ''}"
        )
    if dry_run:
        click.echo(f"Dry run: {len(due)} request(s) not reminded.")
        return
    try:
        sent = svc.send_reminders(today, due)
    except MailError as error:
        raise click.ClickException(
            f"Nothing marked: {error}. Fix the mail settings (NAPO_MAIL_*) and run again."
        ) from error
    click.echo(f"Reminded {sent.admins} admin(s) about {sent.requests} request(s).")


@retention_cli.command("apply")
@click.option("--dry-run", is_flag=True, help="Print what is due; change nothing.")
@transactional
def apply_command(dry_run: bool) -> None:
    """Apply the retention schedule: print what is due, then change it all in one transaction
    (files go once it is saved) and write a summary to the audit log. Run it daily."""
    click.echo(f"Retention schedule: {retention.describe_schedule()}.")
    plan = retention.plan()
    for due in plan.dues:
        click.echo(f"  {due.line()}")
    if not plan.size:
        click.echo("Nothing is due.")
        return
    if dry_run:
        click.echo("Dry run: nothing changed.")
        return
    with click.progressbar(length=plan.size, label="Applying the schedule", show_pos=True) as bar:
        done = retention.apply(plan, progress=bar.update)
    click.echo("Done: " + "; ".join(f"{what} {count}" for what, count in done.items()) + ".")


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False))
def create_command(path: str) -> None:
    """Write an encrypted backup of the database and the stored files to PATH (a new file)."""
    try:
        manifest = backups.create_backup(path, progress=lambda text: click.echo(f"  {text}"))
    except backups.BackupError as error:
        raise click.ClickException(error.message) from error
    with command_transaction():
        record(None, AuditAction.BACKUP_CREATED, None, tables=len(manifest.tables), files=len(manifest.files))
    click.echo(f"Wrote {path}: {manifest.summary()}.")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(path: str, yes: bool) -> None:
    """Replace the database and the stored files with the backup at PATH. The whole backup is
    decrypted and checked first; a damaged, truncated or altered one is refused before anything
    is touched. Erasures recorded since (tombstones) are applied again. Stop the app first."""
    with backups.staging_folder() as folder:
        try:
            staged = backups.verify(path, folder, progress=lambda text: click.echo(f"  {text}"))
        except backups.BackupError as error:
            raise click.ClickException(f"Refused, nothing was changed: {error.message}") from error
        click.echo(f"The backup is sound: {staged.manifest.summary()}.")
        if not yes:
            click.confirm("Replace the current database and stored files with it?", abort=True)
        current = backups.current_tombstones()
        if current is None:
            click.echo("  the current database cannot be read: only the ledger's and the backup's tombstones apply")
        try:
            backups.replace_database(staged)
        except backups.BackupError as error:
            raise click.ClickException(
                f"Restoring the database failed, it was left as it was: {error.message}"
            ) from error
        backups.replace_files(staged)
    _finish_restore(staged.manifest, current or [])


def _finish_restore(manifest: backups.Manifest, current: list[dict]) -> None:
    from flask_migrate import upgrade

    upgrade()  # a backup made before the latest migrations is brought up to date
    with command_transaction():
        lines = merge(current, read_ledger(), backups.current_tombstones() or [])
        done = reapply(lines)
        record(
            None,
            AuditAction.BACKUP_RESTORED,
            None,
            made=manifest.data["created_at"],
            tables=len(manifest.tables),
            files=len(manifest.files),
            erasures_reapplied=done.members + done.testimonies,
        )
    click.echo(
        f"Restored. Erasures applied again: {done.members} member(s), {done.testimonies} testimony withdrawal(s)."
    )
