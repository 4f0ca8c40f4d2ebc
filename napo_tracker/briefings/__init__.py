from flask import Blueprint

bp = Blueprint("briefings", __name__, url_prefix="/briefings")
bp.cli.help = "Briefings: list them, render their PDFs, and tell officials of withdrawn testimonies."
