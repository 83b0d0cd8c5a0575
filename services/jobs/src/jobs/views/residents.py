"""Residents (jobs' copy of registration's directory) and partners, as commands and
matching read them."""

from __future__ import annotations

from doorstep_shared.domain import Event
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.models import core, leads_t, partner_credentials, residents_t
from jobs.views.common import Row, every, in_any, in_area, one

SEEKING = ("unemployed", "flexible")


async def resident(session: AsyncSession, resident_id: str) -> Row | None:
    return await one(session, select(residents_t).where(residents_t.c.resident_id == resident_id))


async def all_residents(session: AsyncSession) -> list[Row]:
    return await every(session, select(residents_t).where(residents_t.c.status == "active"))


async def partner(session: AsyncSession, partner_id: str) -> Row | None:
    t = partner_credentials
    return await one(session, select(t.c.partner_id, t.c.name, t.c.kind).where(t.c.partner_id == partner_id))


async def streams_of_resident(session: AsyncSession, opened_by: type[Event], resident_id: str) -> list[str]:
    """Streams whose opening event (`opened_by`) names the resident, straight from the event log."""
    ev = core.events
    stmt = select(ev.c.stream_id).where(
        ev.c.event_type == opened_by.type_name(), ev.c.data["resident_id"].as_string() == resident_id
    )
    return list((await session.execute(stmt)).scalars())


async def seekers(session: AsyncSession, areas: tuple[str, ...], grid: str | None) -> list[Row]:
    """Residents in the caller's grids who seek work (unemployed, flexible, or with an open lead)."""
    open_lead = select(leads_t.c.resident_id).where(leads_t.c.status == "open")
    stmt = select(residents_t).where(
        residents_t.c.status == "active",
        in_any(residents_t.c.grid_code, areas),
        or_(residents_t.c.employment_status.in_(SEEKING), residents_t.c.resident_id.in_(open_lead)),
    )
    if grid:
        stmt = stmt.where(in_area(residents_t.c.grid_code, grid))
    return await every(session, stmt.order_by(residents_t.c.grid_code, residents_t.c.resident_id).limit(500))
