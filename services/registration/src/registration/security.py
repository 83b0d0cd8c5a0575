"""Secrets registration keeps: per-resident data keys (crypto-shredding)."""

from __future__ import annotations

from doorstep_shared.crypto import (
    DataKeyring,
    DecryptionError,
    decrypt_field,
    encrypt_field,
    keyed_hash,
)
from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from registration.models import DataKey

PII_FIELDS = ("name", "id_number", "mobile")
_KEYS = DataKey.__table__  # type: ignore[attr-defined]
_NEW_KEY = insert(_KEYS)
_WRAPPED_KEY = select(_KEYS.c.wrapped_key).where(_KEYS.c.resident_id == bindparam("resident_id"))


class PiiVault:
    """Seals a resident's personal fields with that resident's own data key.

    The data key is stored wrapped by the master key; deleting it makes every
    copy of the ciphertext (event log, Kafka, read models, backups) unreadable.
    """

    def __init__(self, master_key: bytes, hash_key: bytes) -> None:
        self.keyring = DataKeyring(master_key)
        self.hash_key = hash_key

    def id_hash(self, id_number: str) -> str:
        return keyed_hash(self.hash_key, id_number)

    def new_key(self) -> tuple[bytes, str]:
        """A fresh data key and its wrapped form, to be stored with `store_key`."""
        data_key = self.keyring.generate_data_key()
        return data_key, self.keyring.wrap(data_key)

    async def store_key(self, session: AsyncSession, resident_id: str, wrapped: str) -> None:
        await session.execute(_NEW_KEY, {"resident_id": resident_id, "wrapped_key": wrapped})

    async def key_for(self, session: AsyncSession, resident_id: str) -> bytes | None:
        wrapped = (await session.execute(_WRAPPED_KEY, {"resident_id": resident_id})).scalar()
        return self.keyring.unwrap(wrapped) if wrapped else None

    async def keys_for(self, session: AsyncSession, resident_ids: list[str]) -> dict[str, bytes]:
        if not resident_ids:
            return {}
        rows = await session.execute(
            select(col(DataKey.resident_id), col(DataKey.wrapped_key)).where(col(DataKey.resident_id).in_(resident_ids))
        )
        return {rid: self.keyring.unwrap(w) for rid, w in rows.all()}

    async def destroy_key(self, session: AsyncSession, resident_id: str) -> None:
        await session.execute(delete(DataKey).where(col(DataKey.resident_id) == resident_id))

    @staticmethod
    def seal(data_key: bytes, resident_id: str, values: dict[str, str]) -> dict[str, str]:
        return {
            f"{name}_enc": encrypt_field(data_key, value, aad=f"resident:{resident_id}:{name}")
            for name, value in values.items()
        }

    @staticmethod
    def open(data_key: bytes | None, resident_id: str, name: str, token: str | None) -> str | None:
        if data_key is None or not token:
            return None
        try:
            return decrypt_field(data_key, token, aad=f"resident:{resident_id}:{name}")
        except DecryptionError:
            return None
