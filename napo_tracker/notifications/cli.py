"""``flask notifications send`` and ``flask notifications digest``: for cron, without Redis."""

from __future__ import annotations

from datetime import date

import click

from ..kernel.clock import as_of_option
from ..kernel.transaction import transactional
from ..mail import MailError
from . import bp
from .services import collect_daily, deliver_pending, send_digests


def _mail_failed(error: MailError) -> click.ClickException:
    return click.ClickException(
        f"E-mails stopped: {error}. Those not yet sent are still waiting; fix the mail settings "
        "(NAPO_MAIL_*) and run again."
    )


@bp.cli.command("send")
@transactional
def send_command() -> None:
    """E-mail the notifications waiting to go singly (one e-mail per person)."""
    try:
        done = deliver_pending()
    except MailError as error:
        raise _mail_failed(error) from error
    click.echo(f"Sent {done.emails} e-mail(s) covering {done.notifications} notification(s).")


@bp.cli.command("digest")
@as_of_option
@transactional
def digest_command(day: date) -> None:
    """The daily run: tell officials of testimonies waiting and members' answers, e-mail what
    waits to go singly, and send each daily digest."""
    told = collect_daily(day)
    try:
        single = deliver_pending()
        digests = send_digests(day)
    except MailError as error:
        raise _mail_failed(error) from error
    click.echo(f"{told} notification(s) made; sent {single.emails} single e-mail(s) and {digests.emails} digest(s).")
