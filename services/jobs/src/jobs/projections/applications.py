"""Applications read model; a hire made at a fair counts towards the fair's hires."""

from __future__ import annotations

from doorstep_contracts.jobs import (
    ApplicationAdvanced,
    ApplicationHired,
    ApplicationRejected,
    ApplicationSubmitted,
    ApplicationWithdrawn,
)
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection
from doorstep_shared.writes import upsert
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.models import applications_t, fairs_t
from jobs.projections.rows import set_values

MOVED_TO = {
    ApplicationHired.type_name(): "hired",
    ApplicationRejected.type_name(): "rejected",
    ApplicationWithdrawn.type_name(): "withdrawn",
}


def register(p: Projection) -> None:
    @p.on(ApplicationSubmitted)
    async def submitted(session: AsyncSession, env: Envelope) -> None:
        row = {**env.data, "status": "applied", "updated_at": env.time}
        await upsert(session, applications_t, [row], ["application_id"])

    @p.on(ApplicationAdvanced, ApplicationHired, ApplicationRejected, ApplicationWithdrawn)
    async def moved(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        status = d.get("status") or MOVED_TO[env.event_type]
        await set_values(
            session, applications_t, "application_id", d["application_id"], status=status, updated_at=env.time
        )
        if env.event_type == ApplicationHired.type_name() and d.get("fair_id"):
            await session.execute(
                update(fairs_t).where(fairs_t.c.fair_id == d["fair_id"]).values(hires=fairs_t.c.hires + 1)
            )
