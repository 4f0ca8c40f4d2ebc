from flask import Blueprint

# Read-only JSON; the evidence issue builds it.
bp = Blueprint("api", __name__, url_prefix="/api/v1")
