from flask import Blueprint

# Public pages under /testimony, officials' pages under /testimonies; commands: `flask testimonies …`.
bp = Blueprint("testimonies", __name__, cli_group="testimonies")

from . import cli, errors, panels, views  # noqa: E402,F401
