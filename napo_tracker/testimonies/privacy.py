"""What keeps the public testimony pages from remembering who used them.

- The rate limiter counts by a keyed hash of the address, with a key made at random each
  day and kept only in this process's memory: yesterday's counts cannot be linked to
  anyone, and nothing on disk can turn a hash back into an address.
- Request lines for /testimony paths are dropped from the development server's access log.
- Errors in these routes are logged by exception type only, never with the request body:
  by the blueprint's error handler, and by a filter on the app's logger for what fails
  after the view has answered (the request's commit, for one).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from datetime import date

from flask import has_request_context, request

from ..kernel import clock

PUBLIC_PATH_PREFIX = "/testimony"


class DailySalt:
    """A random secret per day, forgotten when the day changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._day: date | None = None
        self._secret = b""

    def for_today(self) -> bytes:
        # Not a date anyone reads, stores or compares: only when the key changes. UTC days are
        # all 24 hours long (London's are 23 or 25 around a clock change), so no key outlives
        # a day; the union's today() is for dates that are stamped.
        today = clock.utcnow().date()
        with self._lock:
            if self._day != today:
                self._day, self._secret = today, secrets.token_bytes(32)
            return self._secret


_salt = DailySalt()


def hashed_address(address: str | None) -> str:
    digest = hmac.new(_salt.for_today(), (address or "").encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def rate_limit_key() -> str:
    """The limiter's key for testimony routes: never the address itself."""
    return "testimony:" + hashed_address(request.remote_addr)


class DropTestimonyRequests(logging.Filter):
    """Drop access-log lines that mention a /testimony path (Werkzeug's request log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        return f" {PUBLIC_PATH_PREFIX}" not in message


_filter = DropTestimonyRequests()


def install_access_log_filter() -> None:
    logger = logging.getLogger("werkzeug")
    if _filter not in logger.filters:
        logger.addFilter(_filter)


class ScrubTestimonyErrors(logging.Filter):
    """On the app's logger: an exception logged during a testimony request keeps its type only.

    Flask logs what fails after the view has answered (the request's commit, for one) with
    its traceback and message, outside the blueprint's error handler; a message can quote
    what the member typed.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and has_request_context() and request.blueprint == TESTIMONY_BLUEPRINT:
            error = record.exc_info[1]
            record.msg, record.args = "testimony route failed: %s", (type(error).__name__,)
            record.exc_info = record.exc_text = record.stack_info = None
        return True


TESTIMONY_BLUEPRINT = "testimonies"
_scrubber = ScrubTestimonyErrors()


def install_error_log_filter(app_logger: logging.Logger) -> None:
    if _scrubber not in app_logger.filters:
        app_logger.addFilter(_scrubber)
