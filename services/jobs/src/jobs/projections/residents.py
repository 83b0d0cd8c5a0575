"""Residents, from registration: jobs' copy of the directory, with only what matching
needs (area, skills, hours, preferences, consent, tags), and the match index beside it."""

from __future__ import annotations

from typing import Any

from doorstep_contracts.directory import ResidentCopy
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

ERASED = "erased"
KEPT = (
    "resident_id",
    "community_code",
    "grid_code",
    "tags",
    "skills",
    "verified_skills",
    "availability",
    "job_preferences",
    "employment_status",
    "consent_matching",
    "share_with_partners",
    "status",
)


def residents_projection(feed: IndexFeed) -> Projection:
    p = Projection("residents", ["registration.residents"], tables=[residents_t])

    async def indexed(session: AsyncSession, row: dict[str, Any]) -> None:
        """Matching reads the index: an active resident is (re)placed in it, any other left out."""
        facts = ResidentFacts.from_row(row)
        if row["status"] == "active":
            feed.put_resident(session, facts)
        else:
            feed.drop_resident(session, facts.resident_id)

    async def forget(session: AsyncSession, rid: str) -> None:
        """Drop every fact about the resident; keep counts and money totals, unlinked."""
        await session.execute(delete(residents_t).where(residents_t.c.resident_id == rid))
        await session.execute(delete(leads_t).where(leads_t.c.resident_id == rid))
        await session.execute(delete(fair_signups_t).where(fair_signups_t.c.resident_id == rid))
        for table in (applications_t, enrolments_t, batches_t, deliveries_t, settlements_t):
            await session.execute(update(table).where(table.c.resident_id == rid).values(resident_id=ERASED))
        feed.drop_resident(session, rid)

    ResidentCopy(residents_t, list(KEPT), after_change=indexed, on_erased=forget).attach(p)
    p.after_rebuild(feed.reload)
    return p
