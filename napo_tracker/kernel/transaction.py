"""The one transaction boundary, for web requests and for commands.

Services add, change and flush; they never commit. The boundary commits once when the
work succeeds and rolls back when it fails:

* a **request** commits after the view returns a response below 400 and rolls back on
  any exception or error response. A view that must keep what it wrote although it
  answers with an error (the audit entry of a failed login) calls ``keep_writes()``.
  ``errors_on(form)`` rolls back a refused change and shows the service's message next
  to the form field; a ``DomainError`` that no form catches becomes a 4xx page.
* a **command** runs inside ``command_transaction()`` (or ``@transactional``): it commits
  when the command ends well; a ``DomainError`` becomes a message and a non-zero exit.

Files written for records that are then rolled back would be orphans: the writer
registers ``on_rollback(delete)``, and a file to remove only once its record's deletion
is committed registers ``after_commit(delete)``. Both run on SQLAlchemy's own transaction
events, so tests that commit or roll back the session see the same behaviour.

A few writes must outlive the transaction they happen in: the audit entry of an attempt to
open another region's record is answered 404, and the request rolls back. Such a write is
registered with ``write_independently(write)``: it runs in a transaction of its own once the
current one has ended, whether that committed or rolled back.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import click
from flask import Flask, Response, g, has_request_context
from flask_babel import gettext
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from .errors import ConflictError, DomainError

logger = logging.getLogger(__name__)

_ON_ROLLBACK = "napo_on_rollback"
_AFTER_COMMIT = "napo_after_commit"
_INDEPENDENT = "napo_independent_writes"
_KEEP = "_napo_keep_writes"
_FAILED = "_napo_request_failed"

P = ParamSpec("P")
R = TypeVar("R")


# ---------------------------------------------------------------- file clean-up hooks


def on_rollback(callback: Callable[[], None]) -> None:
    """Run ``callback`` if the current transaction is rolled back (or abandoned) instead of committed."""
    _register(_ON_ROLLBACK, callback)


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current transaction has committed (never if it rolls back)."""
    _register(_AFTER_COMMIT, callback)


def write_independently(write: Callable[[Connection], None]) -> None:
    """Run ``write(connection)`` in a transaction of its own once the current one ends, committed
    or rolled back: for a record that must stand whatever becomes of the work around it (the
    audit entry of a refused attempt). ``write`` should capture its values now and only insert."""
    _register(_INDEPENDENT, write)


def _register(key: str, callback: Callable[..., None]) -> None:
    session = db.session()
    if not session.in_transaction():
        # The hooks end with the transaction they belong to: there must be one to end.
        session.begin()
    session.info.setdefault(key, []).append(callback)


def _run(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a clean-up that fails must not hide the outcome it follows
            logger.exception("transaction clean-up failed")


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_ON_ROLLBACK, None)
    _run(session.info.pop(_AFTER_COMMIT, []))


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:  # a savepoint: the outer transaction decides
        return
    # Still registered here means the outermost transaction ended without a commit.
    session.info.pop(_AFTER_COMMIT, None)
    _run(session.info.pop(_ON_ROLLBACK, []))
    _write_independently(session, session.info.pop(_INDEPENDENT, []))


def _write_independently(session: Session, writes: list[Callable[[Connection], None]]) -> None:
    if not writes:
        return
    # The session's own connection has gone back to the pool by now: a fresh one, committed here.
    try:
        with session.get_bind().engine.begin() as connection:
            for write in writes:
                write(connection)
    except Exception:  # like a clean-up, it must not hide the outcome it follows
        logger.exception("an independent write failed")


# ---------------------------------------------------------------- requests


def init_app(app: Flask) -> None:
    app.after_request(_end_request)
    app.teardown_request(_teardown_request)


def keep_writes() -> None:
    """This request's writes are kept although it answers with an error status."""
    g.setdefault(_KEEP, True)


def mark_failed() -> None:
    """The request failed with an exception (the error handlers call this): roll back."""
    if has_request_context():
        g.setdefault(_FAILED, True)


def _end_request(response: Response) -> Response:
    failed = g.get(_FAILED, False)
    if not failed and (response.status_code < 400 or g.get(_KEEP, False)):
        db.session.commit()  # a failure here propagates: rolled back below and answered 500
    else:
        db.session.rollback()
    return response


def _teardown_request(error: BaseException | None) -> None:
    # Whatever is still open (an exception before the response, a failed commit) ends here.
    if db.session.registry.has():
        db.session.rollback()


@dataclass
class Outcome:
    """What ``errors_on`` caught: nothing, a refused change, or a conflict."""

    error: DomainError | None = None
    conflict: ConflictError | None = None

    @property
    def status_code(self) -> int:
        return self.error.status_code if self.error is not None else 400


@contextmanager
def errors_on(form: Any, default_field: str | None = None) -> Iterator[Outcome]:
    """Run a service for a submitted form; on a refusal, roll back and show why on the form.

    The message goes next to the error's field, else ``default_field``, else above the form.
    A record saved by someone else meanwhile (a ``ConflictError``, or SQLAlchemy's version
    check failing at flush) is reported in ``outcome.conflict`` for the view to show.
    """
    outcome = Outcome()
    try:
        yield outcome
    except StaleDataError:
        db.session.rollback()
        outcome.error = outcome.conflict = ConflictError()
    except DomainError as error:
        db.session.rollback()
        outcome.error = error
        if isinstance(error, ConflictError):
            outcome.conflict = error
    if outcome.error is not None:
        add_form_error(form, outcome.error, default_field)


def add_form_error(form: Any, error: DomainError, default_field: str | None = None) -> None:
    field_name = error.field if error.field and hasattr(form, error.field) else default_field
    if field_name and hasattr(form, field_name):
        target = getattr(form, field_name)
        target.errors = [*target.errors, gettext(error.message)]
    else:
        form.form_errors.append(gettext(error.message))


# ---------------------------------------------------------------- commands


@contextmanager
def command_transaction() -> Iterator[None]:
    """Commit when the command's work ends well; roll back on any error.

    A ``DomainError`` becomes a ``click.ClickException``: its message and exit status 1.
    """
    try:
        yield
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    except click.exceptions.Exit as exit_:
        if exit_.exit_code == 0:
            db.session.commit()
        else:
            db.session.rollback()
        raise
    except BaseException:
        db.session.rollback()
        raise
    else:
        db.session.commit()


def transactional(command: Callable[P, R]) -> Callable[P, R]:
    """Decorator for a click command: its whole body is one transaction."""

    @functools.wraps(command)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        with command_transaction():
            return command(*args, **kwargs)

    return wrapped
