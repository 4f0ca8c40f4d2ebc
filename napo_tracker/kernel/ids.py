"""Record ids in URLs: a positive database integer, or no such page.

``<id:case_id>`` in a route matches 1 to ``MAX_ID`` only, so an id past what a database
integer can hold answers 404 from the router instead of reaching the database as an
overflow error.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2_147_483_647  # the largest 32-bit signed integer: PostgreSQL's INTEGER


class RecordIdConverter(IntegerConverter):
    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)
