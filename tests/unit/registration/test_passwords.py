"""Argon2id for new passwords; hashes of the earlier scrypt format still verify and are replaced."""

from __future__ import annotations

import base64
import hashlib

from registration.passwords import Passwords


def _scrypt_hash(password: str, salt: bytes = b"0123456789abcdef") -> str:
    """The format registration stored before Argon2id."""
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


async def test_an_earlier_scrypt_hash_verifies_and_is_replaced_by_argon2id() -> None:
    passwords = Passwords(1)
    legacy = _scrypt_hash("a-long-password")
    assert await passwords.verify("wrong-password", legacy) == (False, None)
    matches, rehashed = await passwords.verify("a-long-password", legacy)
    assert matches and rehashed is not None and rehashed.startswith("$argon2id$")
    assert await passwords.verify("a-long-password", rehashed) == (True, None)


async def test_no_stored_hash_and_an_unreadable_one_match_nothing() -> None:
    passwords = Passwords(1)
    assert await passwords.verify("anything", None) == (False, None)
    assert await passwords.verify("anything", "garbage$hash") == (False, None)
    assert (await passwords.hash("a-long-password")).startswith("$argon2id$")
