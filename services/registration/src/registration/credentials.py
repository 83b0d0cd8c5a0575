"""Staff credentials: the write-side table that signing in reads.

A staff account's credential (username, password hash, role, areas) is written
in the transaction that records `StaffCreated`, so a new account can sign in at
once, without waiting for a projection. Signing in reads it here and answers
the principal a token is issued for.
"""

from __future__ import annotations

from doorstep_shared.auth import Principal, Role, Unauthorized
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from registration.domain.model import Staff
from registration.models import Credential
from registration.security import hash_password, verify_password


async def username_taken(session: AsyncSession, username: str) -> bool:
    found = await session.execute(select(col(Credential.username)).where(col(Credential.username) == username))
    return found.scalar() is not None


def add_credential(session: AsyncSession, staff: Staff, password: str) -> None:
    """The new account's credential, written with its `StaffCreated`."""
    session.add(
        Credential(
            username=staff.username,
            staff_id=staff.id,
            password_hash=hash_password(password),
            role=staff.role,
            areas=staff.areas,
        )
    )


async def sign_in(session: AsyncSession, username: str, password: str) -> Principal:
    """Who signs in with this username and password; a city admin acts everywhere ("")."""
    cred = (await session.execute(select(Credential).where(col(Credential.username) == username))).scalar_one_or_none()
    if cred is None or not verify_password(password, cred.password_hash):
        raise Unauthorized("wrong username or password")
    areas = tuple(cred.areas) or (("",) if cred.role == Role.CITY_ADMIN else ())
    return Principal(subject=cred.staff_id, role=Role(cred.role), areas=areas, name=cred.username)
