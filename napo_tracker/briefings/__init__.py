from flask import Blueprint

bp = Blueprint("briefings", __name__, url_prefix="/briefings")

from . import cli, views  # noqa: E402,F401
