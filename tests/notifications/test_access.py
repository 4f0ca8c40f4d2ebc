"""Who may open the new pages: deny by default, another region's case is a 404, admins' pages
are admins' alone, and an inbox is its owner's."""

from __future__ import annotations

import pytest

from .. import factories


@pytest.fixture
def records(world):
    case = factories.make_case(world.london_rep, world.london)
    deadline_type = factories.make_deadline_type(world.admin)
    return {"case": case.reference, "type": deadline_type.id}


# (path, {person: status})
ACCESS = [
    ("/cases/deadline-types", {"london_rep": 403, "wales_rep": 403, "official": 403, "admin": 200}),
    ("/cases/deadline-types/{type}", {"london_rep": 403, "wales_rep": 403, "official": 403, "admin": 200}),
    ("/cases/{case}/deadlines/new", {"london_rep": 200, "wales_rep": 404, "official": 200, "admin": 200}),
    ("/inbox/", {"london_rep": 200, "wales_rep": 200, "official": 200, "admin": 200}),
    ("/inbox/settings", {"london_rep": 200, "wales_rep": 200, "official": 200, "admin": 200}),
]


@pytest.mark.parametrize(("path", "expected"), ACCESS, ids=[path for path, _ in ACCESS])
def test_each_role_gets_what_the_table_says(client, login_as, world, records, path, expected):
    url = path.format(**records)
    for person, status in expected.items():
        login_as(getattr(world, person))
        assert client.get(url).status_code == status, (person, url)
