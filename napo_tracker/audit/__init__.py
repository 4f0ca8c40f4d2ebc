"""The append-only audit log: its model and ``record()`` in ``models``, its page in ``views``."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")
