"""Commands that belong to no single domain. Domain commands live on each blueprint's
``bp.cli`` (``flask users …``, ``flask evidence …``, ``flask notices …``, ``flask briefings …``);
members' data protection has three groups of its own, named as the design names them
(``flask members …``, ``flask retention …``, ``flask backup …``, in ``privacy/cli.py``)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from . import crypto, keys
from .demo import demo_cli
from .kernel.transaction import command_transaction
from .privacy.cli import backup_cli, members_cli, retention_cli

keys_cli = AppGroup("keys", help="The data keys that encrypt members' data at rest.")


@keys_cli.command("generate")
def generate_command() -> None:
    """Print a new data key. It is stored nowhere: put it first in NAPO_DATA_KEYS (or the
    first line of the key file), keep the older keys after it, then run `keys rotate`."""
    click.echo(crypto.generate_key())


@keys_cli.command("rotate")
def rotate_command() -> None:
    """Re-encrypt every encrypted field, lookup hash and stored file under the newest key.

    One transaction: the older keys still read everything until it commits, and a rotation
    that fails or is stopped leaves everything as it was. Afterwards the older keys are no
    longer needed for the database, only for backups made before it.
    """
    ring = crypto.keyring()
    if len(ring.keys) == 1:
        click.echo("Only one data key is configured: everything is re-encrypted under that same key.")
    else:
        click.echo(f"Re-encrypting under the newest of {len(ring.keys)} data keys…")
    with command_transaction():
        done = keys.rotate(click.echo)
    click.echo(
        f"Done: {done.values} encrypted values, {done.hashes} lookup hashes and {done.files} stored files "
        "are now under the newest key."
    )
    if len(ring.keys) > 1:
        click.echo(
            "The older keys may now be removed from NAPO_DATA_KEYS / the key file; keep a copy of them "
            "for as long as you keep backups made before this rotation."
        )


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(keys_cli)
    # Members' data protection: groups of their own, as the design names them.
    app.cli.add_command(members_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(backup_cli)
