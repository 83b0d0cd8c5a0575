"""Residents, from registration: jobs' copy of the directory, with only what matching
needs (area, skills, hours, preferences, consent, tags), and the match index beside it."""

from __future__ import annotations

from typing import Any

from doorstep_contracts.registration import (
    ResidentAvailabilityUpdated,
    ResidentConsentChanged,
    ResidentEmploymentStatusChanged,
    ResidentErased,
    ResidentMovedOut,
    ResidentMovedWithinCommunity,
    ResidentProfileUpdated,
    ResidentRegistered,
    ResidentSkillsUpdated,
    ResidentTagsUpdated,
    ResidentTransferred,
    ResidentVerifiedSkillAdded,
)
from doorstep_shared.db import upsert
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.domain.matching import ResidentFacts
from jobs.models import (
    applications_t,
    batches_t,
    deliveries_t,
    enrolments_t,
    fair_signups_t,
    leads_t,
    residents_t,
    settlements_t,
)
from jobs.projections.index_feed import IndexFeed
from jobs.views.residents import resident

ERASED = "erased"
RESIDENT_FIELDS = (
    "community_code",
    "grid_code",
    "tags",
    "skills",
    "availability",
    "job_preferences",
    "employment_status",
)


def residents_projection(feed: IndexFeed) -> Projection:
    p = Projection("residents", ["registration.residents"], tables=[residents_t])

    async def save(session: AsyncSession, row: dict[str, Any]) -> None:
        await upsert(session, residents_t, [row], ["resident_id"])
        facts = ResidentFacts.from_row(row)
        if row["status"] == "active":
            feed.put_resident(session, facts)
        else:
            feed.drop_resident(session, facts.resident_id)

    async def change(session: AsyncSession, env: Envelope, **values: Any) -> None:
        row = await resident(session, env.data["resident_id"])
        if row is None:  # registration's later events for a resident jobs never saw: nothing to change
            return
        row.update(values)
        await save(session, row)

    @p.on(ResidentRegistered)
    async def registered(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        consent = d.get("consent") or {}
        row = {k: d.get(k) for k in RESIDENT_FIELDS}
        row.update(
            resident_id=d["resident_id"],
            status="active",
            verified_skills=[],
            tags=d.get("tags") or [],
            skills=d.get("skills") or [],
            availability=d.get("availability") or [],
            job_preferences=d.get("job_preferences") or {},
            employment_status=d.get("employment_status") or "",
            consent_matching=bool(consent.get("employment_matching")),
            share_with_partners=bool(consent.get("share_with_partners")),
        )
        await save(session, row)

    @p.on(ResidentProfileUpdated)
    async def profile(session: AsyncSession, env: Envelope) -> None:
        if env.data.get("job_preferences") is not None:
            await change(session, env, job_preferences=env.data["job_preferences"])

    @p.on(ResidentSkillsUpdated)
    async def skills(session: AsyncSession, env: Envelope) -> None:
        await change(session, env, skills=list(env.data["skills"]))

    @p.on(ResidentVerifiedSkillAdded)
    async def verified(session: AsyncSession, env: Envelope) -> None:
        row = await resident(session, env.data["resident_id"])
        if row is not None:
            await change(session, env, verified_skills=sorted({*row["verified_skills"], env.data["skill"]}))

    @p.on(ResidentAvailabilityUpdated)
    async def availability(session: AsyncSession, env: Envelope) -> None:
        await change(session, env, availability=list(env.data["availability"]))

    @p.on(ResidentTagsUpdated)
    async def tags(session: AsyncSession, env: Envelope) -> None:
        await change(session, env, tags=list(env.data["tags"]))

    @p.on(ResidentConsentChanged)
    async def consent(session: AsyncSession, env: Envelope) -> None:
        c = env.data.get("consent") or {}
        await change(
            session,
            env,
            consent_matching=bool(c.get("employment_matching")),
            share_with_partners=bool(c.get("share_with_partners")),
        )

    @p.on(ResidentEmploymentStatusChanged)
    async def employment(session: AsyncSession, env: Envelope) -> None:
        await change(session, env, employment_status=env.data["employment_status"])

    @p.on(ResidentMovedWithinCommunity)
    async def moved(session: AsyncSession, env: Envelope) -> None:
        await change(session, env, grid_code=env.data["grid_code"])

    @p.on(ResidentTransferred)
    async def transferred(session: AsyncSession, env: Envelope) -> None:
        await change(session, env, community_code=env.data["community_code"], grid_code=env.data["grid_code"])

    @p.on(ResidentMovedOut)
    async def moved_out(session: AsyncSession, env: Envelope) -> None:
        await change(session, env, status="moved_out")

    @p.on(ResidentErased)
    async def erased(session: AsyncSession, env: Envelope) -> None:
        """Drop every fact about the resident; keep counts and money totals, unlinked."""
        rid = env.data["resident_id"]
        await session.execute(delete(residents_t).where(residents_t.c.resident_id == rid))
        await session.execute(delete(leads_t).where(leads_t.c.resident_id == rid))
        await session.execute(delete(fair_signups_t).where(fair_signups_t.c.resident_id == rid))
        for table in (applications_t, enrolments_t, batches_t, deliveries_t, settlements_t):
            await session.execute(update(table).where(table.c.resident_id == rid).values(resident_id=ERASED))
        feed.drop_resident(session, rid)

    p.after_rebuild(feed.reload)

    return p
