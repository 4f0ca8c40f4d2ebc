"""Encryption at rest with the union's data keys, and keyed hashes for looking things up.

The keys come from configuration — ``DATA_KEYS`` (``NAPO_DATA_KEYS``: Fernet keys separated
by commas, newest first) or ``DATA_KEY_FILE`` (one key a line, newest first) — never from the
database. The newest key encrypts; every listed key decrypts, so a key can be rotated in
(``flask --app napo_tracker keys rotate``) while older data is still readable.

``encrypt``/``decrypt`` work on bytes (files, PDFs, backups), ``encrypt_text``/``decrypt_text``
on strings (columns). ``generate_key()`` makes a new key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app

from .kernel.errors import ConfigurationError

EXTENSION = "napo_data_keys"
HOW_TO = (
    "Generate one with `flask --app napo_tracker keys generate` and give it as NAPO_DATA_KEYS "
    "(or put it in the file named by NAPO_DATA_KEY_FILE); keep it outside the database and its backups."
)


class UnreadableData(Exception):
    """Data that none of the configured keys can decrypt (a wrong key, or tampered data)."""


@dataclass(frozen=True)
class Keyring:
    keys: tuple[str, ...]  # newest first
    fernet: MultiFernet


def generate_key() -> str:
    return Fernet.generate_key().decode()


def _read_keys(app: Flask) -> list[str]:
    configured = app.config.get("DATA_KEYS") or ""
    if isinstance(configured, (list, tuple)):
        keys = [str(key).strip() for key in configured]
    else:
        keys = [key.strip() for key in str(configured).split(",")]
    path = app.config.get("DATA_KEY_FILE")
    if path:
        path = os.path.join(app.instance_path, path) if not os.path.isabs(path) else path
        try:
            with open(path, encoding="utf-8") as handle:
                keys += [line.strip() for line in handle if line.strip() and not line.startswith("#")]
        except OSError as error:
            raise ConfigurationError(
                f"NAPO_DATA_KEY_FILE {path!r} cannot be read ({error.strerror}). {HOW_TO}"
            ) from None
    return [key for key in keys if key]


def init_app(app: Flask) -> None:
    """Load the data keys; refuse to start with a malformed one, or with none in production."""
    keys = _read_keys(app)
    if not keys:
        if app.config["CONFIG_NAME"] == "production":
            raise ConfigurationError(f"production needs a data key to encrypt members' data. {HOW_TO}")
        keys = [generate_key()]  # development and tests without a key: one for this process only
    fernets = []
    for number, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise ConfigurationError(
                f"data key number {number} in NAPO_DATA_KEYS / NAPO_DATA_KEY_FILE is not a valid key. {HOW_TO}"
            ) from None
    app.extensions[EXTENSION] = Keyring(tuple(keys), MultiFernet(fernets))


def keyring() -> Keyring:
    return current_app.extensions[EXTENSION]


def encrypt(data: bytes) -> bytes:
    return keyring().fernet.encrypt(data)


def decrypt(token: bytes) -> bytes:
    try:
        return keyring().fernet.decrypt(token)
    except InvalidToken:
        raise UnreadableData("none of the data keys can read this (a wrong key, or the data was changed)") from None


def encrypt_text(text: str) -> str:
    return encrypt(text.encode("utf-8")).decode("ascii")


def decrypt_text(token: str) -> str:
    return decrypt(token.encode("ascii")).decode("utf-8")
