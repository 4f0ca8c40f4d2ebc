"""The pages where officials create and revoke their personal API tokens."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from napo_tracker.api import services
from napo_tracker.api.models import ApiToken
from napo_tracker.api.services import TokenError, create_token
from napo_tracker.extensions import db

from ..factories import make_user
from ..helpers import form_tokens, one, submit


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


def _refuse_audit(*args, **kwargs):
    raise TokenError("The audit log is not taking entries just now.")


def test_a_token_whose_audit_entry_fails_is_not_kept_service(world, monkeypatch):
    monkeypatch.setattr(services, "record", _refuse_audit)
    with pytest.raises(TokenError, match="audit log"):
        create_token(world.official, "Research spreadsheet")
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1  # flushed before the audit entry
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_a_token_whose_audit_entry_fails_is_not_kept_request(client, login_as, world, monkeypatch):
    login_as(world.official)
    page = client.get("/evidence/api-tokens")
    monkeypatch.setattr(services, "record", _refuse_audit)
    response = client.post("/evidence/api-tokens", data={**form_tokens(page.data), "name": "Research"})
    assert response.status_code == 400 and "The audit log is not taking entries just now." in response.text
    assert "not shown again" not in response.text  # no token text is handed out
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
