"""The data keys: from configuration only; production refuses to start without a good one."""

from __future__ import annotations

import pytest

from napo_tracker import ConfigurationError, create_app
from napo_tracker.crypto import UnreadableData, decrypt, decrypt_text, encrypt, encrypt_text, generate_key

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
