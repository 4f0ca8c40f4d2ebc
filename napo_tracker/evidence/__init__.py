from flask import Blueprint

bp = Blueprint("evidence", __name__, url_prefix="/evidence")

from . import cli, views  # noqa: E402,F401
