from flask import Blueprint

# Its commands live under `flask users …`.
bp = Blueprint("accounts", __name__, cli_group="users")
bp.cli.help = "Accounts: create and list users."
