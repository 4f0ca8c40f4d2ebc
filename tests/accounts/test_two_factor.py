"""Two-factor sign-in: required for officials and admins by default, optional for reps; a
code is accepted once; recovery codes work once; wrong codes are throttled."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from napo_tracker import ConfigurationError, create_app
from napo_tracker.accounts import throttle, two_factor
from napo_tracker.accounts.models import RecoveryCode, UserSession
from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.crypto import decrypt_text
from napo_tracker.extensions import db

from ..factories import PASSWORD, TOTP_SECRET, make_user, totp_code
from ..helpers import count, csrf_from, log_in, submit


def _password_step(client, email: str):
    return submit(client, "/login", {"email": email, "password": PASSWORD}, form_url="/login")


def test_an_official_needs_the_code_after_the_password(client, world):
    first = _password_step(client, "official@example.org")
    assert first.status_code == 302 and first.headers["Location"] == "/login/two-factor"
    assert client.get("/cases/").headers["Location"].startswith("/login")  # not signed in yet
    assert count(UserSession) == 0
    wrong = submit(client, "/login/two-factor", {"code": "000000"})
    assert wrong.status_code == 400 and "not right" in wrong.text
    right = submit(client, "/login/two-factor", {"code": totp_code(world.official)})
    assert right.status_code == 302 and right.headers["Location"] == "/"
    assert client.get("/cases/").status_code == 200
    assert count(UserSession) == 1


def test_a_code_is_accepted_once(client, world):
    code = totp_code(world.official)
    _password_step(client, "official@example.org")
    assert submit(client, "/login/two-factor", {"code": code}).status_code == 302
    other = client.application.test_client()
    _password_step(other, "official@example.org")
    replayed = submit(other, "/login/two-factor", {"code": code})
    assert replayed.status_code == 400


def test_the_code_step_cannot_be_reached_without_the_password(client, world):
    response = client.get("/login/two-factor")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_wrong_codes_are_throttled_per_account(client, world):
    _password_step(client, "official@example.org")
    statuses = [submit(client, "/login/two-factor", {"code": f"{n:06d}"}).status_code for n in range(8)]
    assert statuses[: throttle.FREE_FAILURES] == [400] * throttle.FREE_FAILURES
    assert 429 in statuses
    refused = submit(client, "/login/two-factor", {"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert refused.status_code == 429  # even the right code waits
    failed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.LOGIN_FAILED)).all()
    assert all(e.details == {"reason": "second factor"} for e in failed) and len(failed) >= throttle.FREE_FAILURES


def test_an_official_without_it_must_set_it_up_before_anything_else(client, login_as, world):
    newcomer = make_user("official", email="new.official@example.org", two_factor=False)
    login_as(newcomer)
    assert client.get("/cases/").headers["Location"] == "/account/two-factor"
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and 'src="data:image/svg+xml' in page.text
    secret = re.search(r'<code class="receipt-code">([A-Z2-7]+)</code>', page.text)
    assert secret is not None
    wrong = client.post("/account/two-factor", data={"csrf_token": csrf_from(page.data), "code": "123456"})
    assert wrong.status_code == 400 and client.get("/cases/").status_code == 302
    done = client.post(
        "/account/two-factor", data={"csrf_token": csrf_from(page.data), "code": pyotp.TOTP(secret.group(1)).now()}
    )
    assert done.status_code == 200
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", done.text)
    assert len(codes) == two_factor.RECOVERY_CODES
    db.session.expire_all()
    assert newcomer.has_two_factor and newcomer.totp_secret is not None
    assert secret.group(1) not in newcomer.totp_secret  # kept encrypted
    assert decrypt_text(newcomer.totp_secret) == secret.group(1)
    assert all(
        code.replace("-", "") not in r.code_hash for r in db.session.scalars(select(RecoveryCode)) for code in codes
    )
    assert client.get("/cases/").status_code == 200


def test_a_recovery_code_signs_in_once(client, world):
    codes = two_factor._new_recovery_codes(world.official)
    db.session.commit()
    _password_step(client, "official@example.org")
    used = submit(client, "/login/two-factor", {"code": codes[0].upper()})
    assert used.status_code == 302
    again = client.application.test_client()
    _password_step(again, "official@example.org")
    assert submit(again, "/login/two-factor", {"code": codes[0]}).status_code == 400
    assert two_factor.recovery_codes_left(world.official) == two_factor.RECOVERY_CODES - 1


def test_a_rep_may_turn_it_on_and_off(client, world, login_as):
    login_as(world.london_rep)
    assert client.get("/cases/").status_code == 200  # not required for reps
    page = client.get("/account/two-factor")
    secret = re.search(r'<code class="receipt-code">([A-Z2-7]+)</code>', page.text)
    assert secret is not None
    client.post(
        "/account/two-factor", data={"csrf_token": csrf_from(page.data), "code": pyotp.TOTP(secret.group(1)).now()}
    )
    db.session.expire_all()
    assert world.london_rep.has_two_factor
    status = client.get("/account/two-factor")
    assert "Turn two-factor sign-in off" in status.text
    world.london_rep.totp_last_step = None
    db.session.commit()
    off = client.post(
        "/account/two-factor/off",
        data={"csrf_token": csrf_from(status.data), "off-code": pyotp.TOTP(secret.group(1)).now()},
    )
    assert off.status_code == 302
    db.session.expire_all()
    assert not world.london_rep.has_two_factor


def test_an_official_cannot_turn_it_off_but_an_admin_can_reset_it(client, world, login_as):
    with pytest.raises(two_factor.TwoFactorError, match="cannot be turned off"):
        two_factor.turn_off(world.official, world.official, code=totp_code(world.official))
    with pytest.raises(two_factor.TwoFactorError, match="Only an admin"):
        two_factor.turn_off(world.london_rep, world.official)
    login_as(world.admin)
    page = client.get(f"/admin/users/{world.official.id}")
    assert "Reset two-factor sign-in" in page.text
    reset = client.post(f"/admin/users/{world.official.id}/two-factor/reset", data={"csrf_token": csrf_from(page.data)})
    assert reset.status_code == 302
    db.session.expire_all()
    assert not world.official.has_two_factor and count(RecoveryCode) == 0


def test_a_rep_cannot_reset_anyones_second_factor(client, world, login_as):
    login_as(world.london_rep)
    page = client.get("/account/password")
    response = client.post(
        f"/admin/users/{world.official.id}/two-factor/reset", data={"csrf_token": csrf_from(page.data)}
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert world.official.has_two_factor


def test_the_setting_names_roles_or_nothing(tmp_path):
    assert two_factor.required_roles("official, admin") == {"official", "admin"}
    assert two_factor.required_roles("") == frozenset()
    with pytest.raises(ConfigurationError, match="NAPO_REQUIRE_TWO_FACTOR names boss"):
        create_app(
            "testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.sqlite", REQUIRE_TWO_FACTOR="official,boss"
        )


def test_with_no_role_required_an_official_signs_in_with_a_password(database_url, tmp_path):
    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=database_url, INSTANCE_FILES_DIR=str(tmp_path / "f"), REQUIRE_TWO_FACTOR=""
    )
    with app.app_context():
        official = make_user("official", email="plain@example.org", two_factor=False)
        client = app.test_client()
        assert log_in(client, official.email, PASSWORD).headers["Location"] == "/"
        assert client.get("/cases/").status_code == 200
        db.session.remove()
        db.engine.dispose()
