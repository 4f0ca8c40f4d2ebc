from flask import Blueprint

bp = Blueprint("testimonies", __name__, url_prefix="/testimony")

from . import views  # noqa: E402,F401
