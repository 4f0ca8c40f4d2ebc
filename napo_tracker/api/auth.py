"""`Authorization: Bearer <token>` logs a request in, for the API's URLs only."""

from __future__ import annotations

from flask import Request

from ..extensions import login_manager
from .services import user_for_token


@login_manager.request_loader
def load_user_from_bearer_token(request: Request):
    # A token never opens the HTML pages: only the read-only API accepts it.
    if request.blueprint != "api":
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return user_for_token(token.strip())
