from flask import Blueprint

bp = Blueprint("notices", __name__, url_prefix="/notices")

from . import cli, views  # noqa: E402,F401
