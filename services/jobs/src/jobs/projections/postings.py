"""Postings read model; published jobs also go into the match index, and leave it
when filled, closed or expired."""

from __future__ import annotations

from datetime import datetime

from doorstep_contracts.jobs import (
    JobOpeningFilled,
    JobPostingClosed,
    JobPostingDrafted,
    JobPostingExpired,
    JobPostingFilled,
    JobPostingPublished,
)
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection
from doorstep_shared.writes import upsert
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.domain.matching import JobFacts
from jobs.models import postings_t
from jobs.projections.index_feed import IndexFeed
from jobs.projections.rows import set_values
from jobs.views.postings import job

ENDED = {
    JobPostingFilled.type_name(): "filled",
    JobPostingClosed.type_name(): "closed",
    JobPostingExpired.type_name(): "expired",
}


def register(p: Projection, feed: IndexFeed) -> None:
    async def job_changed(session: AsyncSession, job_id: str) -> None:
        row = await job(session, job_id)
        if row is not None and row["status"] == "published":
            feed.put_job(session, JobFacts.from_row(row))
        else:
            feed.drop_job(session, job_id)

    @p.on(JobPostingDrafted)
    async def drafted(session: AsyncSession, env: Envelope) -> None:
        d = dict(env.data)
        d["valid_through"] = datetime.fromisoformat(d["valid_through"])
        d["filled"], d["status"], d["published_at"] = 0, "draft", None
        await upsert(session, postings_t, [d], ["job_id"])

    @p.on(JobPostingPublished)
    async def published(session: AsyncSession, env: Envelope) -> None:
        e = env.event(JobPostingPublished)
        at = datetime.fromisoformat(e.published_at)
        await set_values(session, postings_t, "job_id", e.job_id, status="published", published_at=at)
        await job_changed(session, e.job_id)

    @p.on(JobOpeningFilled)
    async def opening(session: AsyncSession, env: Envelope) -> None:
        e = env.event(JobOpeningFilled)
        await set_values(session, postings_t, "job_id", e.job_id, filled=e.filled)

    @p.on(JobPostingFilled, JobPostingClosed, JobPostingExpired)
    async def ended(session: AsyncSession, env: Envelope) -> None:
        job_id = env.data["job_id"]
        await set_values(session, postings_t, "job_id", job_id, status=ENDED[env.event_type])
        await job_changed(session, job_id)
