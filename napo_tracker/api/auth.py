"""`Authorization: Bearer <token>` logs a request in, for the API's URLs only."""

from __future__ import annotations

from flask import Request

from ..extensions import login_manager
from ..kernel.transaction import keep_writes
from .services import user_for_token


@login_manager.request_loader
def load_user_from_bearer_token(request: Request):
    # A token never opens the HTML pages: only the read-only API accepts it.
    if request.blueprint != "api":
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    user = user_for_token(token.strip())
    if user is not None:
        # The API only reads: the one write of its requests is the token's time of last use,
        # kept even when the request is answered with an error.
        keep_writes()
    return user
