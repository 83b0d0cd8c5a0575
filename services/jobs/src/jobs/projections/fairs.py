"""Fairs read model: each fair with its employers and sign-ups, and their counts."""

from __future__ import annotations

from doorstep_contracts.jobs import FairCancelled, FairEmployerJoined, FairResidentSignedUp, FairScheduled
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection
from doorstep_shared.writes import upsert
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.models import fair_employers_t, fair_signups_t, fairs_t
from jobs.projections.rows import bump, set_values

COUNTERS = ("employers", "signups", "hires")


def register(p: Projection) -> None:
    @p.on(FairScheduled)
    async def scheduled(session: AsyncSession, env: Envelope) -> None:
        row = {**env.data, "status": "scheduled", "employers": 0, "signups": 0, "hires": 0}
        # a fair scheduled again (a replay) keeps the counts it has
        await upsert(session, fairs_t, [row], ["fair_id"], update=[c for c in row if c not in ("fair_id", *COUNTERS)])

    @p.on(FairEmployerJoined)
    async def joined(session: AsyncSession, env: Envelope) -> None:
        e = env.event(FairEmployerJoined)
        row = {
            "fair_id": e.fair_id,
            "partner_id": e.partner_id,
            "employer_name": e.employer_name,
            "job_ids": e.job_ids,
        }
        await upsert(session, fair_employers_t, [row], ["fair_id", "partner_id"])
        await bump(session, fairs_t, "fair_id", e.fair_id, "employers")

    @p.on(FairResidentSignedUp)
    async def signed_up(session: AsyncSession, env: Envelope) -> None:
        e = env.event(FairResidentSignedUp)
        row = {"fair_id": e.fair_id, "resident_id": e.resident_id, "signed_up_by": e.signed_up_by}
        await upsert(session, fair_signups_t, [row], ["fair_id", "resident_id"])
        await bump(session, fairs_t, "fair_id", e.fair_id, "signups")

    @p.on(FairCancelled)
    async def cancelled(session: AsyncSession, env: Envelope) -> None:
        await set_values(session, fairs_t, "fair_id", env.event(FairCancelled).fair_id, status="cancelled")
