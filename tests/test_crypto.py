"""The data keys: from configuration only, none refused; tokens that name their key and refuse
any change; keyed hashes for lookups; encrypted columns that cannot be compared in SQL."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest

from napo_tracker import PROJECT_ROOT, ConfigurationError, create_app
from napo_tracker.cases.models import Member
from napo_tracker.crypto import (
    UnreadableData,
    decrypt,
    decrypt_text,
    encrypt,
    encrypt_text,
    generate_key,
    keyed_hash,
    keyed_hashes,
)

GOOD_SECRET = "s" * 48


def _production(tmp_path, **settings):
    return create_app(
        "production", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/p.sqlite", SECRET_KEY=GOOD_SECRET, **settings
    )


def test_production_refuses_to_start_without_a_data_key(tmp_path):
    with pytest.raises(ConfigurationError, match="NAPO_DATA_KEYS") as caught:
        _production(tmp_path)
    assert "keys generate" in str(caught.value)


def test_a_malformed_key_is_refused_with_what_to_do(tmp_path):
    with pytest.raises(ConfigurationError, match=r"data key number 2 .* is not a valid key"):
        _production(tmp_path, DATA_KEYS=f"{generate_key()},not-a-key")


def test_a_key_file_that_cannot_be_read_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot be read"):
        _production(tmp_path, DATA_KEY_FILE=str(tmp_path / "missing.keys"))


def test_the_newest_key_encrypts_and_every_key_decrypts(tmp_path):
    old, new = generate_key(), generate_key()
    with _production(tmp_path, DATA_KEYS=old).app_context():
        sealed_with_old = encrypt(b"a member's letter")
        text_with_old = encrypt_text("Member's name")
    keys = tmp_path / "data.keys"
    keys.write_text(f"# newest first\n{new}\n{old}\n")
    with _production(tmp_path, DATA_KEY_FILE=str(keys)).app_context():
        assert decrypt(sealed_with_old) == b"a member's letter"
        assert decrypt_text(text_with_old) == "Member's name"
        assert b"letter" not in encrypt(b"a member's letter")
    with _production(tmp_path, DATA_KEYS=generate_key()).app_context(), pytest.raises(UnreadableData):
        decrypt(sealed_with_old)


def test_a_token_names_its_key_and_refuses_any_change(tmp_path):
    with _production(tmp_path, DATA_KEYS=generate_key()).app_context():
        token = encrypt(b"a member's letter")
        assert token[:1] == b"\x01" and encrypt(b"a member's letter") != token  # a fresh nonce each time
        for changed in (token[:-1] + bytes([token[-1] ^ 1]), token[:3] + b"\x00" + token[4:], token[:20], b""):
            with pytest.raises(UnreadableData):
                decrypt(changed)
        for not_ours in ("not base64!", "AQ==", ""):
            with pytest.raises(UnreadableData):
                decrypt_text(not_ours)


def test_keyed_hashes_ignore_case_and_spacing_and_differ_by_key(tmp_path):
    first, second = generate_key(), generate_key()
    with _production(tmp_path, DATA_KEYS=f"{first},{second}").app_context():
        assert keyed_hash(" n-4471 ") == keyed_hash("N-4471") != keyed_hash("N-4472")
        both = keyed_hashes("N-4471")
        assert both[0] == keyed_hash("N-4471") and len(set(both)) == 2
    with _production(tmp_path, DATA_KEYS=second).app_context():
        assert keyed_hash("N-4471") == both[1]  # the older key's hash, as lookups before a rotation need


def test_an_encrypted_column_cannot_be_compared_in_sql():
    with pytest.raises(TypeError, match="keyed hash"):
        Member.name == "Ada"  # noqa: B015
    with pytest.raises(TypeError, match="keyed hash"):
        Member.email.ilike("%ada%")
    assert Member.email.is_(None) is not None and Member.email.is_not(None) is not None


def test_a_key_can_be_made_without_starting_the_app():
    printed = subprocess.run(
        [sys.executable, "-m", "napo_tracker.crypto"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert len(base64.urlsafe_b64decode(printed)) == 32 and printed != generate_key()
