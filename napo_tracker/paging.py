"""Lists in pages: the page a link asks for, kept within bounds.

``?page=`` comes from the address bar, so it can be anything: a word, a negative number or
a number of a hundred digits (which the database would refuse as an offset). Anything that
is not a whole number is page 1; a number past the last page shows the last page.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from .extensions import db

MAX_PAGE = 100_000


def page_asked() -> int:
    """``?page=`` as a whole number from 1 to ``MAX_PAGE``; anything else is 1."""
    raw = request.args.get("page", "")
    if not (raw.isascii() and raw.isdigit()):
        return 1
    return MAX_PAGE if len(raw) > len(str(MAX_PAGE)) else min(max(int(raw), 1), MAX_PAGE)


def paginate(stmt: Select[Any], per_page: int) -> Pagination:
    """The page of ``stmt`` the request asks for; past the last one, the last one."""
    page = page_asked()
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    if pagination.pages and page > pagination.pages:
        pagination = db.paginate(stmt, page=pagination.pages, per_page=per_page, error_out=False)
    return pagination
