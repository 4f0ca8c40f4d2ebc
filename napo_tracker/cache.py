"""A small cache for what is costly to make and is fully decided by its inputs (charts).

Values are keyed by a hash of everything that decides them, so an entry is never stale: new
data makes a new key. With ``REDIS_URL`` set, every worker and server shares one cache in
Redis; without it (the embedded default), or while Redis does not answer, each process keeps
its own bounded copy. Nothing about a person goes in: only what a page would show anyway.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import current_app, has_app_context

log = logging.getLogger(__name__)

LOCAL_ENTRIES = 512  # per process: a few dashboards' worth of charts
SHARED_SECONDS = 7 * 24 * 3600  # Redis forgets an entry unused for a week
KEY_PREFIX = "napo:cache:"
REDIS_RETRY_SECONDS = 30.0  # after Redis failed, how long to use the local copy alone


class LocalCache:
    """A process's own least-recently-used store, safe across threads."""

    def __init__(self, size: int = LOCAL_ENTRIES) -> None:
        self.size = size
        self._entries: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: str) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_local = LocalCache()
_clients: dict[str, Any] = {}
_redis_down_until: dict[str, float] = {}


def _redis(url: str) -> Any:
    client = _clients.get(url)
    if client is None:
        import redis  # only when configured: the embedded default needs no Redis

        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        _clients[url] = client
    return client


def _shared_url() -> str | None:
    return current_app.config.get("REDIS_URL") if has_app_context() else None


def key_for(namespace: str, *parts: Any) -> str:
    """A key from the namespace and the ``repr`` of every input (numbers, labels, dates)."""
    digest = hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()
    return f"{KEY_PREFIX}{namespace}:{digest}"


def _shared_get(url: str, key: str) -> str | None:
    if _redis_down_until.get(url, 0.0) > time.monotonic():
        return None
    try:
        value = _redis(url).get(key)
    except Exception as error:  # Redis down or unreachable: the page is still made, locally
        _redis_down_until[url] = time.monotonic() + REDIS_RETRY_SECONDS
        log.warning("shared cache unavailable (%s); using this process's cache", type(error).__name__)
        return None
    return value.decode("utf-8") if value is not None else None


def _shared_set(url: str, key: str, value: str) -> None:
    if _redis_down_until.get(url, 0.0) > time.monotonic():
        return
    try:
        _redis(url).set(key, value.encode("utf-8"), ex=SHARED_SECONDS)
    except Exception as error:
        _redis_down_until[url] = time.monotonic() + REDIS_RETRY_SECONDS
        log.warning("shared cache unavailable (%s); using this process's cache", type(error).__name__)


def cached(namespace: str, parts: tuple[Any, ...], make: Callable[[], str]) -> str:
    """The value for these inputs: from this process, then from Redis, else ``make()`` it."""
    key = key_for(namespace, *parts)
    value = _local.get(key)
    if value is not None:
        return value
    url = _shared_url()
    if url:
        value = _shared_get(url, key)
    if value is None:
        value = make()
        if url:
            _shared_set(url, key, value)
    _local.set(key, value)
    return value


def clear_local() -> None:
    """Forget this process's entries (tests, and the benchmark's cold runs)."""
    _local.clear()
