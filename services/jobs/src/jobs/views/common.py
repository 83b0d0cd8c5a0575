"""What every query module uses: rows as dicts, areas by whole segments, a 404 for a missing row."""

from __future__ import annotations

from typing import Any

from doorstep_shared.area_filters import in_any_scope, in_scope
from doorstep_shared.domain import NotFound
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

Row = dict[str, Any]


class View(BaseModel):
    """A response model: exactly the fields a query answers (a row with another field is a bug)."""

    model_config = ConfigDict(extra="forbid")


async def one(session: AsyncSession, stmt: Any) -> Row | None:
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row is not None else None


async def every(session: AsyncSession, stmt: Any) -> list[Row]:
    return [dict(r) for r in (await session.execute(stmt)).mappings().all()]


def in_area(column: Any, area: str) -> Any:
    """A grid's code is its community's plus one segment: compared by whole segments."""
    return in_scope(column, area)


def in_any(column: Any, areas: tuple[str, ...]) -> Any:
    return in_any_scope(column, areas) if areas else column.is_(None)


def found(row: Row | None, what: str, field: str = "id") -> Row:
    if row is None:
        raise NotFound(f"{what} not found", field=field)
    return row
