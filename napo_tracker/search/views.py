"""The search page: ``GET /search?q=TEXT``, for every signed-in role (the service decides what
each finds)."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from . import bp
from .services import MAX_QUERY_LENGTH, RANKED_AT_MOST, search

# Where each kind of result opens (the endpoint and its argument's name).
DETAIL_ENDPOINTS = {
    "case": ("cases.detail", "ref"),
    "notice": ("notices.detail", "ref"),
    "evidence": ("evidence.detail", "reference"),
    "testimony": ("testimonies.detail", "reference"),
    "briefing": ("briefings.detail", "ref"),
}


@bp.route("/search")
def index():
    results = search(current_user, request.args.get("q", "", type=str))
    return render_template(
        "search/index.html",
        results=results,
        endpoints=DETAIL_ENDPOINTS,
        max_length=MAX_QUERY_LENGTH,
        ranked_at_most=RANKED_AT_MOST,
    )
