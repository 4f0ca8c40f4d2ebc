from flask import Blueprint

bp = Blueprint("help", __name__, url_prefix="/help")
