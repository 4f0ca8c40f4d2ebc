"""What ``GET /healthz`` reports beside the database: each part of the app that depends on
another service (Redis and the job queue) adds its own check here, from its package's import.

A check is a function ``() -> (entries, ok)``: the entries join the JSON answer, and one
check not ok makes the answer 503. A check for something not configured returns ``({}, True)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

HealthCheck = Callable[[], tuple[dict[str, Any], bool]]

HEALTH_CHECKS: list[HealthCheck] = []


def health_check(check: HealthCheck) -> HealthCheck:
    """Decorator: add a check to /healthz."""
    if check not in HEALTH_CHECKS:
        HEALTH_CHECKS.append(check)
    return check
