from __future__ import annotations

from flask import jsonify, render_template
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from . import bp
from .health import HEALTH_CHECKS
from .home import home_panels


@bp.route("/")
def index():
    """Each role's home: the panels each domain contributes for this user."""
    return render_template("main/index.html", panels=home_panels(current_user))


@bp.route("/healthz")
def healthz():
    """200 when the database answers and every configured service does (Redis, the job queue); 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:  # the 503 rolls the failed transaction back
        return jsonify(status="unavailable", database="unreachable"), 503
    body: dict[str, object] = {"status": "ok", "database": "ok"}
    healthy = True
    for check in HEALTH_CHECKS:
        entries, ok = check()
        body.update(entries)
        healthy = healthy and ok
    if not healthy:
        body["status"] = "unavailable"
        return jsonify(body), 503
    return jsonify(body)
