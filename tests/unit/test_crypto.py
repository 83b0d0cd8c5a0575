"""Crypto-shredding helpers: sealed fields only open with their own key and context."""

from __future__ import annotations

import base64

import pytest
from doorstep_shared.crypto import (
    DataKeyring,
    DecryptionError,
    decrypt_field,
    encrypt_field,
    keyed_hash,
    master_key_from_b64,
)

MASTER = bytes(range(32))
AAD = "resident:r-1:name"


@pytest.fixture
def keyring() -> DataKeyring:
    return DataKeyring(MASTER)


def _flip_last_char(token: str) -> str:
    prefix, body = token.split(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[-1] ^= 0x01
    return f"{prefix}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"


def test_field_round_trip_including_non_ascii(keyring: DataKeyring) -> None:
    key = keyring.generate_data_key()
    token = encrypt_field(key, "张三", aad=AAD)

    assert token.startswith("v1:")
    assert "张三" not in token
    assert decrypt_field(key, token, aad=AAD) == "张三"


def test_encryption_is_randomised(keyring: DataKeyring) -> None:
    key = keyring.generate_data_key()
    assert encrypt_field(key, "same", aad=AAD) != encrypt_field(key, "same", aad=AAD)


def test_ciphertext_cannot_be_moved_to_another_resident_or_field(keyring: DataKeyring) -> None:
    key = keyring.generate_data_key()
    token = encrypt_field(key, "张三", aad=AAD)

    for other in ("resident:r-2:name", "resident:r-1:address", ""):
        with pytest.raises(DecryptionError):
            decrypt_field(key, token, aad=other)


def test_tampered_token_fails(keyring: DataKeyring) -> None:
    key = keyring.generate_data_key()
    token = encrypt_field(key, "张三", aad=AAD)

    with pytest.raises(DecryptionError):
        decrypt_field(key, _flip_last_char(token), aad=AAD)


@pytest.mark.parametrize("token", ["", "v1:", "v1:***", "v1:AAAA", "v2:AAAA", "张三"])
def test_malformed_token_fails(keyring: DataKeyring, token: str) -> None:
    with pytest.raises(DecryptionError):
        decrypt_field(keyring.generate_data_key(), token, aad=AAD)


def test_wrong_data_key_fails(keyring: DataKeyring) -> None:
    token = encrypt_field(keyring.generate_data_key(), "张三", aad=AAD)
    with pytest.raises(DecryptionError):
        decrypt_field(keyring.generate_data_key(), token, aad=AAD)


def test_data_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        encrypt_field(b"short", "x", aad=AAD)


def test_generated_data_keys_are_32_random_bytes(keyring: DataKeyring) -> None:
    first, second = keyring.generate_data_key(), keyring.generate_data_key()
    assert len(first) == len(second) == 32
    assert first != second


def test_wrap_unwrap_round_trip(keyring: DataKeyring) -> None:
    key = keyring.generate_data_key()
    wrapped = keyring.wrap(key)

    assert wrapped.startswith("v1:")
    assert keyring.unwrap(wrapped) == key
    assert keyring.wrap(key) != wrapped


def test_unwrap_with_another_master_key_fails(keyring: DataKeyring) -> None:
    wrapped = keyring.wrap(keyring.generate_data_key())
    with pytest.raises(DecryptionError):
        DataKeyring(bytes(32)).unwrap(wrapped)


def test_tampered_wrapped_key_fails(keyring: DataKeyring) -> None:
    wrapped = keyring.wrap(keyring.generate_data_key())
    with pytest.raises(DecryptionError):
        keyring.unwrap(_flip_last_char(wrapped))


def test_field_token_is_not_accepted_as_wrapped_key(keyring: DataKeyring) -> None:
    # Same master key, different context: a field ciphertext must not unwrap.
    token = encrypt_field(MASTER, "x" * 32, aad=AAD)
    with pytest.raises(DecryptionError):
        keyring.unwrap(token)


def test_keyring_rejects_short_master_key_and_hides_it_in_repr() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        DataKeyring(b"too short")
    assert MASTER.hex() not in repr(DataKeyring(MASTER))


def test_keyed_hash_is_stable_and_normalises() -> None:
    key = b"k" * 32
    digest = keyed_hash(key, "11010519491231002X")

    assert len(digest) == 64
    assert keyed_hash(key, "11010519491231002X") == digest
    assert keyed_hash(key, " 11010519491231002x\n") == digest
    assert keyed_hash(key, "11010519491231002") != digest


def test_keyed_hash_depends_on_key() -> None:
    assert keyed_hash(b"a" * 32, "value") != keyed_hash(b"b" * 32, "value")


def test_keyed_hash_rejects_weak_key() -> None:
    with pytest.raises(ValueError, match="at least"):
        keyed_hash(b"", "value")


def test_master_key_from_b64_accepts_32_bytes() -> None:
    key = bytes(range(200, 232))
    assert master_key_from_b64(base64.b64encode(key).decode()) == key
    assert master_key_from_b64(base64.urlsafe_b64encode(key).decode() + "\n") == key


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_master_key_from_b64_requires_exactly_32_bytes(size: int) -> None:
    with pytest.raises(ValueError, match=f"exactly 32 bytes, got {size}"):
        master_key_from_b64(base64.b64encode(bytes(size)).decode())


@pytest.mark.parametrize("value", ["not base64!", "changeme", "AAA"])
def test_master_key_from_b64_rejects_non_base64(value: str) -> None:
    with pytest.raises(ValueError, match="master key"):
        master_key_from_b64(value)
