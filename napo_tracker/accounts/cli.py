from __future__ import annotations

import sys

import click

from ..kernel.transaction import command_transaction
from ..kernel.vocabulary import Role
from ..regions.models import region_by_name
from . import bp
from .services import all_users, create_user


@bp.cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="What the user may do.")
@click.option(
    "--region",
    "regions",
    multiple=True,
    metavar="NAME",
    help="A region the rep works in (repeat for several). Officials and admins see all regions.",
)
@click.option("--name", "display_name", default="", help="Display name (defaults to the email address).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
def create_command(email: str, role: str, regions: tuple[str, ...], display_name: str, password_stdin: bool) -> None:
    """Create a user with EMAIL and a role; the password comes from a prompt or stdin."""
    found = []
    for name in regions:
        region = region_by_name(name)
        if region is None:
            raise click.BadParameter(f"no region called {name!r}", param_hint="--region")
        found.append(region)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with command_transaction():
        user = create_user(None, email=email, display_name=display_name, role=role, password=password, regions=found)
    click.echo(f"Created {user.role} {user.email} ({user.region_names}).")


@bp.cli.command("list")
def list_command() -> None:
    """One line per user: email, role, regions, active or not."""
    for user in all_users():
        state = "active" if user.is_active else "deactivated"
        click.echo(f"{user.email}\t{user.role}\t{user.region_names}\t{state}")
