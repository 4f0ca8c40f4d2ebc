from flask import Blueprint

bp = Blueprint("evidence", __name__, url_prefix="/evidence")
bp.cli.help = "Workload evidence: import figures from CSV."
