"""Friendly error pages that say what happened and leak nothing about why."""

from __future__ import annotations

from flask import Flask, flash, g, jsonify, make_response, redirect, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db
from .kernel.errors import STALE_MESSAGE, DomainError
from .kernel.transaction import mark_failed
from .submissions import AlreadySubmitted

MESSAGES = {
    400: (_l("Something in that request was not right"), _l("Please go back, check what you entered and try again.")),
    401: (_l("Please log in"), _l("You need to log in to see this.")),
    403: (_l("Not allowed"), _l("Your account does not allow this.")),
    404: (_l("Not found"), _l("There is nothing here, or it is not one you can see.")),
    405: (_l("Not allowed"), _l("That kind of request is not accepted here.")),
    409: (
        _l("Someone else changed this"),
        _l("Reload the page to see the latest version, then make your change again."),
    ),
    413: (_l("Too large"), _l("What you sent is larger than we accept. Please send something smaller.")),
    429: (_l("Too many attempts"), _l("Please wait a little before trying again.")),
    500: (_l("Something went wrong on our side"), _l("The problem has been noted. Please try again later.")),
    503: (_l("Unavailable"), _l("The service is briefly unavailable. Please try again in a few minutes.")),
}


def render_error(code: int, detail: str | None = None):
    title, message = (str(text) for text in MESSAGES.get(code, MESSAGES[500 if code >= 500 else 400]))
    if request.blueprint == "api" or request.accept_mimetypes.best == "application/json":
        return jsonify(error=title, detail=detail or message), code
    g.napo_error_page = True  # the language switch links to the start page (i18n.language_switch)
    return render_template("errors/error.html", code=code, title=title, message=detail or message), code


def already_submitted(error: AlreadySubmitted):
    """A form sent again: to the first result, or back to the form, with a word why."""
    if error.url is None and request.url_rule is not None and "GET" not in (request.url_rule.methods or ()):
        return render_error(400, error.message)
    flash(str(error.message), "info")
    return redirect(error.url or request.path, 303)


def init_app(app: Flask) -> None:
    app.register_error_handler(AlreadySubmitted, already_submitted)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        """A refusal no form caught: its own message on a 400 (or 409) page."""
        mark_failed()
        db.session.rollback()
        return render_error(error.status_code, gettext(error.message))

    @app.errorhandler(StaleDataError)
    def stale_record(error: StaleDataError):
        """Two people saved the same record at once and no form caught it: the second is told."""
        mark_failed()
        db.session.rollback()
        return render_error(409, STALE_MESSAGE)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        mark_failed()
        return render_error(
            400, gettext("This form has expired or was not sent from this site. Please reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        mark_failed()
        # Only our own short descriptions are shown; Werkzeug's defaults are replaced.
        detail = error.description if getattr(error, "napo_public", False) else None
        response = make_response(render_error(error.code, detail))
        allowed = getattr(error, "valid_methods", None)
        if allowed:  # a 405 says which methods are allowed
            response.headers["Allow"] = ", ".join(sorted(allowed))
        return response

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):
        mark_failed()
        db.session.rollback()
        return render_error(500)
