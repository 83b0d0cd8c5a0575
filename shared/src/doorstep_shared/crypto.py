"""Crypto-shredding helpers for residents' personal data.

Every subject's personal fields are encrypted with that subject's own data key,
and only a copy wrapped by the master key is ever stored. Deleting the wrapped key
makes every copy of the ciphertext (events, backups, topics) unreadable, which is
how an append-only history still honours a request to erase personal information.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "KEY_SIZE",
    "DataKeyring",
    "DecryptionError",
    "decrypt_field",
    "encrypt_field",
    "keyed_hash",
    "master_key_from_b64",
]

KEY_SIZE = 32
_NONCE_SIZE = 12
_TAG_SIZE = 16
_PREFIX = "v1:"
_WRAP_AAD = b"doorstep:data-key:v1"
_MIN_HASH_KEY_SIZE = 16


class DecryptionError(Exception):
    """A token could not be opened: wrong key, wrong context, tampered or malformed."""


def _require_key(key: bytes, what: str) -> None:
    if len(key) != KEY_SIZE:
        raise ValueError(f"{what} must be {KEY_SIZE} bytes, got {len(key)}")


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> str:
    nonce = secrets.token_bytes(_NONCE_SIZE)
    sealed = AESGCM(key).encrypt(nonce, plaintext, aad)
    return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def _open(key: bytes, token: str, aad: bytes) -> bytes:
    if not token.startswith(_PREFIX):
        raise DecryptionError("unknown token version")
    try:
        raw = base64.b64decode(token[len(_PREFIX) :], altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError("token is not valid base64") from None
    if len(raw) < _NONCE_SIZE + _TAG_SIZE:
        raise DecryptionError("token is too short")
    try:
        return AESGCM(key).decrypt(raw[:_NONCE_SIZE], raw[_NONCE_SIZE:], aad)
    except InvalidTag:
        raise DecryptionError("wrong key or context, or the token was altered") from None


class DataKeyring:
    """Creates and (un)wraps per-subject data keys; storing them is the caller's job."""

    def __init__(self, master_key: bytes) -> None:
        _require_key(master_key, "master key")
        self._master_key = master_key

    def __repr__(self) -> str:
        return "DataKeyring(<master key hidden>)"

    @staticmethod
    def generate_data_key() -> bytes:
        """A fresh random AES-256 key for one subject."""
        return secrets.token_bytes(KEY_SIZE)

    def wrap(self, data_key: bytes) -> str:
        """Encrypt a data key under the master key so it can be stored beside the data."""
        _require_key(data_key, "data key")
        return _seal(self._master_key, data_key, _WRAP_AAD)

    def unwrap(self, wrapped: str) -> bytes:
        """Recover a data key; raises DecryptionError if it was not wrapped by this master."""
        data_key = _open(self._master_key, wrapped, _WRAP_AAD)
        if len(data_key) != KEY_SIZE:
            raise DecryptionError("wrapped value is not a data key")
        return data_key


def encrypt_field(data_key: bytes, plaintext: str, *, aad: str) -> str:
    """Encrypt one field; `aad` (e.g. "resident:<id>:name") pins it to its subject and field."""
    _require_key(data_key, "data key")
    return _seal(data_key, plaintext.encode("utf-8"), aad.encode("utf-8"))


def decrypt_field(data_key: bytes, token: str, *, aad: str) -> str:
    """Decrypt a field sealed by `encrypt_field` under the same key and `aad`."""
    _require_key(data_key, "data key")
    return _open(data_key, token, aad.encode("utf-8")).decode("utf-8")


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of a normalised value, to spot duplicates without decrypting anything.

    A plain hash of an identity number could be reversed by enumerating the small
    space of valid numbers; keying it with a secret prevents that.
    """
    if len(key) < _MIN_HASH_KEY_SIZE:
        raise ValueError(f"hash key must be at least {_MIN_HASH_KEY_SIZE} bytes")
    normalised = value.strip().upper().encode("utf-8")
    return hmac.new(key, normalised, hashlib.sha256).hexdigest()


def master_key_from_b64(value: str) -> bytes:
    """Decode the configured master key, refusing anything that is not exactly 32 bytes."""
    try:
        key = base64.b64decode(value.strip(), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("master key is not valid base64") from None
    if len(key) != KEY_SIZE:
        raise ValueError(
            f"master key must decode to exactly {KEY_SIZE} bytes, got {len(key)};"
            " generate one with: openssl rand -base64 32"
        )
    return key
