"""Errors in the testimony routes: answered like everywhere else, logged without the body.

Flask's default report of an unhandled exception is harmless on its own, but an
exception's message can quote what the member typed (a failed INSERT echoes its
parameters, for one). Here only the exception's type is logged, and the app's logger is
told to do the same for what fails in these routes after the view (the request's commit).
"""

from __future__ import annotations

import logging

from flask.blueprints import BlueprintSetupState
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from ..errors import already_submitted, render_error
from ..extensions import db
from ..kernel.errors import STALE_MESSAGE, DomainError
from ..kernel.transaction import mark_failed
from ..submissions import AlreadySubmitted
from . import bp
from .privacy import install_access_log_filter, install_error_log_filter

logger = logging.getLogger(__name__)


@bp.record_once
def _on_register(state: BlueprintSetupState) -> None:
    install_access_log_filter()
    install_error_log_filter(state.app.logger)


@bp.errorhandler(Exception)
def scrubbed_error(error: Exception):
    if isinstance(error, AlreadySubmitted):  # not a failure: a form sent twice
        return already_submitted(error)
    mark_failed()
    if isinstance(error, DomainError):
        db.session.rollback()
        return render_error(error.status_code, error.message)
    if isinstance(error, StaleDataError):  # as the app answers it, which this handler hides
        db.session.rollback()
        return render_error(409, STALE_MESSAGE)
    if isinstance(error, HTTPException):
        if error.code is None or error.code < 400:
            return error
        detail = error.description if getattr(error, "napo_public", False) else None
        return render_error(error.code, detail)
    db.session.rollback()
    # The type only: no message, no traceback, no request body, no address.
    logger.error("testimony route failed: %s", type(error).__name__)
    return render_error(500)
