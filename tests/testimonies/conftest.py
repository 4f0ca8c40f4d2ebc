"""Form data for the testimony pages; records come from tests/factories.py."""

from __future__ import annotations

from typing import Any

from ..factories import TESTIMONY_TEXT

# Long enough for every text rule; other domains' tests import it under this name.
LONG_ENOUGH = TESTIMONY_TEXT


def form_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"text": LONG_ENOUGH, "region": "", "grade": "", "service_band": ""}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}
