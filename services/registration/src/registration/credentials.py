"""Staff credentials: the write-side table that signing in reads.

A staff account's credential (username, password hash, role, areas, whether it
is disabled) changes in the transaction that records the staff event, so a new
account can sign in at once and a disabled one no longer can, without waiting
for a projection. Signing in reads it here and answers the principal a token
is issued for; the token of an account disabled later still works until it
expires (`TOKEN_TTL_MINUTES`), since other services check tokens on their own.
"""

from __future__ import annotations

from doorstep_shared.auth import Principal, Role, Unauthorized
from doorstep_shared.db import Database
from doorstep_shared.domain import Forbidden
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from registration.domain.model import Staff
from registration.models import Credential
from registration.passwords import Passwords
from registration.throttle import Throttle


async def username_taken(session: AsyncSession, username: str) -> bool:
    found = await session.execute(select(col(Credential.username)).where(col(Credential.username) == username))
    return found.scalar() is not None


def add_credential(session: AsyncSession, staff: Staff, password_hash: str) -> None:
    """The new account's credential, written with its `StaffCreated`."""
    session.add(
        Credential(
            username=staff.username,
            staff_id=staff.id,
            password_hash=password_hash,
            role=staff.role,
            areas=staff.areas,
        )
    )


async def credential_of(session: AsyncSession, staff_id: str) -> Credential | None:
    found = await session.execute(select(Credential).where(col(Credential.staff_id) == staff_id))
    return found.scalar_one_or_none()


async def set_password_hash(session: AsyncSession, staff_id: str, password_hash: str) -> None:
    await session.execute(
        update(Credential).where(col(Credential.staff_id) == staff_id).values(password_hash=password_hash)
    )


async def set_disabled(session: AsyncSession, staff_id: str, disabled: bool) -> None:
    await session.execute(update(Credential).where(col(Credential.staff_id) == staff_id).values(disabled=disabled))


async def sign_in(
    db: Database, passwords: Passwords, throttle: Throttle, username: str, password: str, address: str
) -> Principal:
    """Who signs in with this username and password; a city admin acts everywhere ("").

    The throttle is asked once a hashing slot is free, so the attempts checked but
    not yet counted are at most the slots of each process. An unknown username costs
    the same hash as a known one and is counted the same way.
    """
    async with passwords.slot():
        async with db.session() as s:
            attempt = await throttle.check(s, username, address)
            cred = (
                await s.execute(select(Credential).where(col(Credential.username) == username))
            ).scalar_one_or_none()
        ok, rehashed = await passwords.verify(password, cred.password_hash if cred else None)
        async with db.transaction() as s:
            if cred is None or not ok:
                await throttle.failed(s, attempt)
            else:
                await throttle.succeeded(s, attempt)
                if rehashed:  # unless the password changed meanwhile
                    unchanged = col(Credential.password_hash) == cred.password_hash
                    same = col(Credential.username) == username
                    await s.execute(update(Credential).where(same, unchanged).values(password_hash=rehashed))
    if cred is None or not ok:
        raise Unauthorized("wrong username or password")
    if cred.disabled:
        raise Forbidden("this account is disabled")
    areas = tuple(cred.areas) or (("",) if cred.role == Role.CITY_ADMIN else ())
    return Principal(subject=cred.staff_id, role=Role(cred.role), areas=areas, name=cred.username)
