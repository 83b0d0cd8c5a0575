"""What every query shares: rows as dicts, areas by prefix, hours, whose area a caller reads,
and whose volunteer records a caller may read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from doorstep_shared.area_filters import in_scope
from doorstep_shared.auth import Principal, Role
from doorstep_shared.domain import InvalidInput, NotFound, as_utc
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from volunteering import authz
from volunteering.models import residents_t as R
from volunteering.models import totals_t as V


def row_dict(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = as_utc(value)
    return out


def in_area(column: Any, area_code: str) -> Any:
    """Inside the area, compared by whole segments."""
    return in_scope(column, area_code)


def hours(minutes: int | None) -> float:
    return round((minutes or 0) / 60, 2)


async def home_community(session: AsyncSession, resident_id: str) -> str | None:
    """Where a volunteer belongs: their registered community, else where they last served."""
    found = (await session.execute(select(R.c.community_code).where(R.c.resident_id == resident_id))).scalar()
    if found:
        return str(found)
    last = (await session.execute(select(V.c.community_code).where(V.c.resident_id == resident_id))).scalar()
    return str(last) if last else None


async def area_to_read(session: AsyncSession, principal: Principal, given: str | None) -> str:
    """The area named, else residents' own community, else staff's first area."""
    if given:
        return given
    if principal.role == Role.RESIDENT:
        home = await home_community(session, authz.own_resident_id(principal))
        if home:
            return home
    if principal.areas:
        return principal.areas[0]
    raise InvalidInput("name the area", field="area_code")


async def require_volunteer_reader(session: AsyncSession, principal: Principal, resident_id: str) -> None:
    """A volunteer reads their own record; staff read records of their areas."""
    if authz.reads_own_record(principal, resident_id):
        return
    home = await home_community(session, resident_id)
    if home is None:
        raise NotFound(f"volunteer {resident_id} not found", field="resident_id")
    authz.require_reader(principal, home)
