"""Errors in the testimony routes: answered like everywhere else, logged without the body.

Flask's default report of an unhandled exception is harmless on its own, but an
exception's message can quote what the member typed (a failed INSERT echoes its
parameters, for one). Here only the exception's type is logged.
"""

from __future__ import annotations

import logging

from werkzeug.exceptions import HTTPException

from ..errors import render_error
from ..extensions import db
from ..kernel.errors import DomainError
from ..kernel.transaction import mark_failed
from . import bp
from .privacy import install_access_log_filter

logger = logging.getLogger(__name__)


@bp.record_once
def _on_register(state) -> None:
    install_access_log_filter()


@bp.errorhandler(Exception)
def scrubbed_error(error: Exception):
    mark_failed()
    if isinstance(error, DomainError):
        db.session.rollback()
        return render_error(error.status_code, error.message)
    if isinstance(error, HTTPException):
        if error.code is None or error.code < 400:
            return error
        detail = error.description if getattr(error, "napo_public", False) else None
        return render_error(error.code, detail)
    db.session.rollback()
    # The type only: no message, no traceback, no request body, no address.
    logger.error("testimony route failed: %s", type(error).__name__)
    return render_error(500)
