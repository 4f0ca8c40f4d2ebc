from flask import Blueprint

# Read-only JSON under /api/v1/: a logged-in session or a personal Bearer token.
bp = Blueprint("api", __name__, url_prefix="/api/v1")
