from flask import Blueprint

bp = Blueprint("notices", __name__, url_prefix="/notices")
bp.cli.help = "Foreseeability notices: e-mail reminders of due and overdue responses."
