from flask import Blueprint

# Public pages under /testimony, officials' pages under /testimonies; commands: `flask testimonies …`.
bp = Blueprint("testimonies", __name__, cli_group="testimonies")
bp.cli.help = "Anonymous testimonies: erase originals past the retention period."
