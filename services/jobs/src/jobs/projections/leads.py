"""Leads read model: job-seeker leads, open until a grid worker closes them with an outcome."""

from __future__ import annotations

from doorstep_contracts.jobs import JobSeekerLeadClosed, JobSeekerLeadOpened
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection
from doorstep_shared.writes import upsert
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.models import leads_t
from jobs.projections.rows import set_values


def register(p: Projection) -> None:
    @p.on(JobSeekerLeadOpened)
    async def opened(session: AsyncSession, env: Envelope) -> None:
        row = {**env.data, "status": "open", "outcome": None, "opened_at": env.time}
        await upsert(session, leads_t, [row], ["lead_id"])

    @p.on(JobSeekerLeadClosed)
    async def closed(session: AsyncSession, env: Envelope) -> None:
        e = env.event(JobSeekerLeadClosed)
        await set_values(session, leads_t, "lead_id", e.lead_id, status="closed", outcome=e.outcome)
