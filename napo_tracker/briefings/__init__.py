from flask import Blueprint

bp = Blueprint("briefings", __name__, url_prefix="/briefings")
bp.cli.help = "Briefings: list them and render their PDFs."
