"""Small writes the read-model handlers share: set columns of a row, add to a counter."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession


async def set_values(session: AsyncSession, table: Any, key: str, value: str, **values: Any) -> None:
    await session.execute(update(table).where(table.c[key] == value).values(**values))


async def bump(session: AsyncSession, table: Any, key: str, value: str, column: str, by: int = 1) -> None:
    await session.execute(update(table).where(table.c[key] == value).values({column: table.c[column] + by}))
