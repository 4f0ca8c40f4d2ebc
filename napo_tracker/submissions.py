"""One-time submission tokens: a form sent twice makes one record.

Every form that creates a record carries a random token (``forms.OnceOnlyForm``). The
first post of it that validates *claims* the token, a row in ``used_submissions`` written
in the request's own transaction before the service runs; when the request answers with
a redirect, the page it redirects to is kept with the row. A repeat of that post (a double
click, a browser retrying after a time-out, the back button) finds the row and is sent to
that page, the first result, instead of making a second record.

Two copies sent at the same instant both try to insert the row: the primary key makes
the second wait for the first's commit, fail, and go to the first one's result. If the
first is refused and rolled back, its row goes with it and the token is free again.

The public testimony form binds its token to no account, and rows keep the day only
(in the token's order, not the order they came in): nothing here tells who sent a
testimony, or when within the day. Rows are kept for
``KEEP_DAYS`` days, longer than a form's CSRF token lives (8 hours), so a form can never
be sent again once its row is gone.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask, Response, g
from sqlalchemy import Date, ForeignKey, String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import Model, db
from .kernel import clock
from .kernel.errors import ConflictError

KEEP_DAYS = 2
_CLAIMED = "napo_claimed_submission"

ALREADY_SENT = "This form was sent twice: it was saved once, and here is the result."
SENT_BY_SOMEONE_ELSE = "This form was already sent. Reload the page and fill it in again."


class UsedSubmission(Model):
    """A submission token that has made its record, and the page that shows the result."""

    __tablename__ = "used_submissions"
    # Kept in the order of the random token, not of insertion: a row of the public form must
    # not be found between two staff rows whose records say when they were made.
    __table_args__ = {"sqlite_with_rowid": False}

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The account that sent it (none for the public testimony form): a token works for its sender only.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    result_url: Mapped[str | None] = mapped_column(String(500))
    # The day only, like a testimony's own date.
    used_on: Mapped[date] = mapped_column(Date, index=True)


class AlreadySubmitted(Exception):
    """The form's token was used before: answered with a redirect to the first result."""

    def __init__(self, url: str | None, message: str) -> None:
        super().__init__(message)
        self.url = url
        self.message = message


def check_not_used(token: str, user_id: int | None, message: str) -> None:
    """Raise ``AlreadySubmitted`` if ``token`` has already made its record."""
    used = db.session.get(UsedSubmission, token, populate_existing=True)
    if used is not None:
        raise _repeat(used, user_id, message)


def claim(token: str, user_id: int | None, message: str) -> None:
    """Mark ``token`` used in the current transaction, or raise ``AlreadySubmitted``.

    Call it after the form validates and before the record is made: a copy of the same post
    running at the same moment waits here until this transaction ends.
    """
    today = clock.today()
    db.session.execute(delete(UsedSubmission).where(UsedSubmission.used_on < today - timedelta(days=KEEP_DAYS)))
    savepoint = db.session.begin_nested()
    try:
        db.session.add(UsedSubmission(token=token, user_id=user_id, used_on=today))
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()
        used = db.session.get(UsedSubmission, token, populate_existing=True)
        if used is None:  # the other copy was rolled back after all: this one may go ahead next time
            raise ConflictError("This form was being sent twice at once. Please send it again.") from None
        raise _repeat(used, user_id, message) from None
    savepoint.commit()
    g.setdefault(_CLAIMED, token)


def _repeat(used: UsedSubmission, user_id: int | None, message: str) -> AlreadySubmitted:
    if used.user_id != user_id:
        return AlreadySubmitted(None, SENT_BY_SOMEONE_ELSE)
    return AlreadySubmitted(used.result_url, message)


def init_app(app: Flask) -> None:
    """Call after ``kernel.transaction.init_app``: Flask runs later ``after_request``
    functions first, so the result is written before the request commits. (The answer to
    ``AlreadySubmitted`` is in ``errors.py``, with the app's other error answers.)"""
    app.after_request(_remember_result)


def _remember_result(response: Response) -> Response:
    token = g.pop(_CLAIMED, None)
    if token is None or not 300 <= response.status_code < 400:
        return response
    location = response.location or ""
    used = db.session.get(UsedSubmission, token)
    # Only a page of this site; the row is gone if the change was refused and rolled back.
    if used is not None and location.startswith("/") and not location.startswith("//") and len(location) <= 500:
        used.result_url = location
        db.session.flush()
    return response
