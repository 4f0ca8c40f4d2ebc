"""Encryption at rest with the union's data keys, and keyed hashes for looking things up.

The keys come from configuration — ``DATA_KEYS`` (``NAPO_DATA_KEYS``: keys separated by
commas, newest first) or, when that is not set, ``DATA_KEY_FILE`` (one key a line, newest
first) — never from the database. A key is 32 random bytes in URL-safe base64, as
``generate_key()`` (``flask --app napo_tracker keys generate``) makes. The newest key
encrypts; every listed key decrypts, so a key can be rotated in (``flask --app napo_tracker
keys rotate``) while older data is still readable. No configuration starts without a key: a
key made up for one process would leave what it wrote unreadable after a restart.

Data is sealed with AES-256-GCM under a key derived from the data key: a token is a version
byte, the key's 4-byte id, a random 12-byte nonce, then the ciphertext and its tag; the
header is authenticated too. The id says which key to use, so reading never tries each key
in turn (AES-GCM reads about six times faster than Fernet, and the case search decrypts many
descriptions), and, unlike a Fernet token, a token holds no clock time in clear.

* ``encrypt``/``decrypt`` work on bytes (files, PDFs, backups; up to 2 GB at once),
  ``encrypt_text``/``decrypt_text`` on strings (the token in base64).
* ``EncryptedText`` and ``EncryptedBytes`` are column types: the database only ever holds
  tokens, and the ORM and Core queries read and write plain values.
* ``keyed_hash(value)`` is an HMAC of a value under the newest key, for a column that finds a
  record by an encrypted field (a membership number); ``keyed_hashes(value)`` gives it under
  every key, so lookups still work between adding a key and rotating.
* ``check_database(app)``: at start-up, the keys must read the small record the migration
  (and every rotation) wrote with them, or the app refuses to start.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app
from sqlalchemy import Column, Integer, LargeBinary, Table, Text, inspect, select, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from .extensions import db
from .kernel.errors import ConfigurationError

logger = logging.getLogger(__name__)

EXTENSION = "napo_data_keys"
HOW_TO = (
    "Generate one with `flask --app napo_tracker keys generate` (or `python -m napo_tracker.crypto`) "
    "and give it as NAPO_DATA_KEYS, or put it in the file named by NAPO_DATA_KEY_FILE; "
    "keep it outside the database and its backups."
)
# A column's ``info`` key naming the encrypted column its keyed hash is computed from.
KEYED_HASH_OF = "napo_keyed_hash_of"
KEY_CHECK_TEXT = "napo-tracker data key check"

_VERSION = b"\x01"
_ID_BYTES = 4
_NONCE_BYTES = 12
_HEADER_BYTES = len(_VERSION) + _ID_BYTES
_TAG_BYTES = 16


class UnreadableData(Exception):
    """Data that none of the configured keys can decrypt (a wrong key, or tampered data)."""


@dataclass(frozen=True)
class DataKey:
    """One configured key, and what is derived from it: each use gets its own key."""

    id: bytes
    cipher: AESGCM
    lookup_key: bytes

    @classmethod
    def from_text(cls, text: str) -> DataKey:
        raw = base64.b64decode(text.encode("ascii"), altchars=b"-_", validate=True)
        if len(raw) != 32:
            raise ValueError("a data key is 32 bytes")

        def derive(purpose: bytes) -> bytes:
            return hmac.new(raw, purpose, hashlib.sha256).digest()

        return cls(
            derive(b"napo-tracker key id")[:_ID_BYTES],
            AESGCM(derive(b"napo-tracker aes-256-gcm")),
            derive(b"napo-tracker keyed lookup v1"),
        )


@dataclass(frozen=True)
class Keyring:
    keys: tuple[DataKey, ...]  # newest first
    by_id: dict[bytes, DataKey]

    @property
    def newest(self) -> DataKey:
        return self.keys[0]


def generate_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def _read_keys(app: Flask) -> list[str]:
    configured = app.config.get("DATA_KEYS") or ""
    if isinstance(configured, (list, tuple)):
        keys = [str(key).strip() for key in configured]
    else:
        keys = [key.strip() for key in str(configured).split(",")]
    keys = [key for key in keys if key]
    path = app.config.get("DATA_KEY_FILE")
    if keys or not path:  # NAPO_DATA_KEYS, when given, wins over the file
        return keys
    path = os.path.join(app.instance_path, path) if not os.path.isabs(path) else path
    try:
        with open(path, encoding="utf-8") as handle:
            return [line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]
    except OSError as error:
        raise ConfigurationError(
            f"NAPO_DATA_KEY_FILE {path!r} cannot be read ({error.strerror}). {HOW_TO}"
            + (" `make run` creates a development key there." if app.config["CONFIG_NAME"] == "development" else "")
        ) from None


def init_app(app: Flask) -> None:
    """Load the data keys; refuse to start with a malformed one, or with none."""
    texts = _read_keys(app)
    if not texts:
        raise ConfigurationError(f"a data key is needed to encrypt members' data. {HOW_TO}")
    keys = []
    for number, text in enumerate(texts, start=1):
        try:
            keys.append(DataKey.from_text(text))
        except (ValueError, UnicodeEncodeError, binascii.Error):
            raise ConfigurationError(
                f"data key number {number} in NAPO_DATA_KEYS / NAPO_DATA_KEY_FILE is not a valid key. {HOW_TO}"
            ) from None
    by_id: dict[bytes, DataKey] = {}
    for number, key in enumerate(keys, start=1):
        if by_id.setdefault(key.id, key).lookup_key != key.lookup_key:  # 1 in 4 billion: say so, not fail later
            raise ConfigurationError(f"data key number {number} cannot be told from an earlier one: generate another")
    app.extensions[EXTENSION] = Keyring(tuple(keys), by_id)


def keyring() -> Keyring:
    return current_app.extensions[EXTENSION]


def encrypt(data: bytes) -> bytes:
    """A token: the data sealed under the newest key."""
    key = keyring().newest
    header = _VERSION + key.id
    nonce = os.urandom(_NONCE_BYTES)
    return header + nonce + key.cipher.encrypt(nonce, data, header)


def decrypt(token: bytes) -> bytes:
    return _open(keyring(), token)


def _open(ring: Keyring, token: bytes) -> bytes:
    header, nonce, sealed = _parts(token)
    key = ring.by_id.get(header[len(_VERSION) :])
    if key is None:
        raise UnreadableData("this was written with a data key that is not configured")
    try:
        return key.cipher.decrypt(nonce, sealed, header)
    except InvalidTag:
        raise UnreadableData("this does not match its key: it was changed, or it is not ours") from None


def _parts(token: bytes) -> tuple[bytes, bytes, bytes]:
    token = bytes(token)
    if len(token) < _HEADER_BYTES + _NONCE_BYTES + _TAG_BYTES or not token.startswith(_VERSION):
        raise UnreadableData("this is not encrypted data of ours")
    return (
        token[:_HEADER_BYTES],
        token[_HEADER_BYTES : _HEADER_BYTES + _NONCE_BYTES],
        token[_HEADER_BYTES + _NONCE_BYTES :],
    )


def encrypt_text(text: str) -> str:
    return binascii.b2a_base64(encrypt(text.encode("utf-8")), newline=False).decode("ascii")


def decrypt_text(token: str) -> str:
    return _open_text(keyring(), token)


def decrypt_texts(tokens: Iterable[str]) -> Iterator[str]:
    """``decrypt_text`` for many values, the keys looked up once (the case search reads thousands)."""
    ring = keyring()
    return (_open_text(ring, token) for token in tokens)


def _open_text(ring: Keyring, token: str) -> str:
    try:
        sealed = binascii.a2b_base64(token)
    except (binascii.Error, ValueError):
        raise UnreadableData("this is not encrypted text of ours") from None
    return _open(ring, sealed).decode("utf-8")


def reencrypt(token: bytes) -> bytes:
    """The same data under the newest key."""
    return encrypt(decrypt(token))


def _normalise(value: str) -> str:
    # Spacing and case do not tell two membership numbers (or addresses) apart.
    return value.strip().casefold()


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of the value under the newest key: what a lookup column stores."""
    return _hash(keyring().newest.lookup_key, value)


def keyed_hashes(value: str) -> list[str]:
    """The value's keyed hash under every key: a lookup matches any of them, so records
    written before a new key was added are found until ``keys rotate`` rewrites them."""
    return [_hash(key.lookup_key, value) for key in keyring().keys]


def _hash(key: bytes, value: str) -> str:
    return hmac.new(key, _normalise(value).encode("utf-8"), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- column types


class _EncryptedComparator(TypeDecorator.Comparator):
    """Ciphertext is different each time: comparing it in SQL would silently match nothing.
    Only IS NULL / IS NOT NULL are allowed; find records by a keyed hash instead."""

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
        if op not in (operators.is_, operators.is_not):
            raise TypeError(f"an encrypted column cannot be compared in SQL ({op.__name__}): use a keyed hash")
        return super().operate(op, *other, **kwargs)


class EncryptedText(TypeDecorator[str]):
    """Text stored encrypted under the newest data key; NULL stays NULL."""

    impl = Text
    cache_ok = True
    comparator_factory = _EncryptedComparator

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt_text(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else decrypt_text(value)


class EncryptedBytes(TypeDecorator[bytes]):
    """Bytes (a frozen PDF) stored encrypted under the newest data key; NULL stays NULL."""

    impl = LargeBinary
    cache_ok = True
    comparator_factory = _EncryptedComparator

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        return None if value is None else encrypt(bytes(value))

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        return None if value is None else decrypt(bytes(value))


ENCRYPTED_TYPES = (EncryptedText, EncryptedBytes)


# ---------------------------------------------------------------- the start-up check

# One row, written with the keys in use by the migration that encrypted the data and by every
# rotation: if none of the configured keys reads it, none reads the rest either.
key_checks = Table(
    "data_key_checks",
    db.metadata,
    Column("id", Integer, primary_key=True),
    Column("token", EncryptedText, nullable=False),
)

WRONG_KEYS = (
    "none of the data keys (NAPO_DATA_KEYS / NAPO_DATA_KEY_FILE) can read this database's encrypted data: "
    "the key it was written with is missing. Put that key back in the list (a new key goes in front of it, "
    "newest first) and start again. If the key is lost, nobody can read the encrypted fields and files: "
    "restore a backup together with the key it was made under."
)


def check_database(app: Flask) -> None:
    """Refuse to start when the database holds data that none of the keys can read.

    A database not created yet, not migrated this far, or not answering (``/healthz`` reports
    that) is not checked.
    """
    with app.app_context():
        engine = db.engine
        database = engine.url.database
        if engine.dialect.name == "sqlite" and (not database or database == ":memory:" or not os.path.exists(database)):
            return
        try:
            with engine.connect() as connection:
                if not inspect(connection).has_table(key_checks.name):
                    return
                token = connection.scalar(select(type_coerce(key_checks.c.token, Text())).limit(1))
        except OperationalError:
            logger.warning("the database did not answer: the data keys were not checked against it")
            return
        finally:
            engine.dispose()  # no connection is kept from before a server forks its workers
        if token is None:
            return
        try:
            readable = decrypt_text(token) == KEY_CHECK_TEXT
        except (UnreadableData, ValueError):
            readable = False
        if not readable:
            raise ConfigurationError(WRONG_KEYS)


if __name__ == "__main__":  # python -m napo_tracker.crypto: a new key, without starting the app
    print(generate_key())
