"""The pages where officials create and revoke their personal API tokens."""

from __future__ import annotations

from sqlalchemy import select

from napo_tracker.api.models import ApiToken
from napo_tracker.extensions import db

from ..factories import make_user
from ..helpers import one, submit


def test_officials_create_and_revoke_api_tokens(client, login_as, world):
    login_as(world.london_rep)
    assert client.get("/evidence/api-tokens").status_code == 403
    login_as(world.official)
    page = submit(client, "/evidence/api-tokens", {"name": "Research spreadsheet"})
    assert page.status_code == 200 and "not shown again" in page.text
    token = one(select(ApiToken))
    assert token.hint in page.text and token.token_hash not in page.text
    assert submit(client, "/evidence/api-tokens", {"name": ""}).status_code == 400
    revoked = submit(client, f"/evidence/api-tokens/{token.id}/revoke", {}, form_url="/evidence/api-tokens")
    assert revoked.status_code == 302
    db.session.expire_all()
    assert token.revoked_at is not None


def test_a_token_is_revoked_only_by_its_owner_or_an_admin(client, login_as, world):
    login_as(world.official)
    submit(client, "/evidence/api-tokens", {"name": "Mine"})
    token = one(select(ApiToken))
    login_as(make_user("official", email="second.official@example.org"))
    refused = submit(client, f"/evidence/api-tokens/{token.id}/revoke", {}, form_url="/evidence/api-tokens")
    assert refused.status_code == 404
    db.session.expire_all()
    assert token.revoked_at is None
    login_as(world.admin)
    done = submit(client, f"/evidence/api-tokens/{token.id}/revoke", {}, form_url="/evidence/api-tokens")
    assert done.status_code == 302
    db.session.expire_all()
    assert token.revoked_at is not None
    # an id past a database integer is no page at all, not a database error
    assert client.post("/evidence/api-tokens/99999999999/revoke").status_code == 404
