"""The help pages: an index, one page per file, and a search. Members' help is public; the
staff's needs a login (``security.PUBLIC_ENDPOINTS`` names the public endpoints)."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from ..i18n import current_language
from . import bp
from .pages import BY_SLUG, help_slug_for, rendered, search, visible_pages


def _signed_in() -> bool:
    return bool(getattr(current_user, "is_authenticated", False))


@bp.app_context_processor
def _help_link() -> dict[str, Any]:
    def help_url() -> str:
        slug = help_slug_for(request.endpoint, request.blueprint)
        page = BY_SLUG.get(slug or "")
        if page is None or not (page.is_public or _signed_in()):
            return url_for("help.index")
        return url_for("help.member_page") if page.is_public else url_for("help.page", slug=page.slug)

    return {"help_url": help_url}


@bp.route("/")
def index():
    return render_template("help/index.html", pages=visible_pages(_signed_in()))


@bp.route("/members")
def member_page():
    page = BY_SLUG["members"]
    return render_template("help/page.html", page=page, body=rendered(page.slug, current_language()))


@bp.route("/<slug>")
def page(slug: str):
    help_page = BY_SLUG.get(slug)
    if help_page is None:
        abort(404)
    if help_page.is_public:
        return redirect(url_for("help.member_page"))
    return render_template("help/page.html", page=help_page, body=rendered(help_page.slug, current_language()))


@bp.route("/search")
def search_help():
    query = request.args.get("q", "", type=str).strip()
    hits = search(query, visible_pages(_signed_in()), current_language()) if query else []
    return render_template("help/search.html", query=query, hits=hits, pages=visible_pages(_signed_in()))
