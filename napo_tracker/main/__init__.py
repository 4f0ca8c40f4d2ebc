from flask import Blueprint

bp = Blueprint("main", __name__)


@bp.app_context_processor
def _navigation():
    from flask_login import current_user

    from .nav import navigation

    return {"nav": navigation(current_user)}
