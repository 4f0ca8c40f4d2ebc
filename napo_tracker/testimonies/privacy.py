"""What keeps the public testimony pages from remembering who used them.

- The rate limiter counts by a keyed hash of the address, with a key made at random each
  day and kept only in this process's memory: yesterday's counts cannot be linked to
  anyone, and nothing on disk can turn a hash back into an address.
- Request lines for /testimony paths are dropped from the development server's access log.
- Errors in these routes are logged by exception type only, never with the request body.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from datetime import UTC, date, datetime

from flask import request

PUBLIC_PATH_PREFIX = "/testimony"


class DailySalt:
    """A random secret per day, forgotten when the day changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._day: date | None = None
        self._secret = b""

    def for_today(self) -> bytes:
        today = datetime.now(UTC).date()
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
