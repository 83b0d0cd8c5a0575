"""Job postings as read: one job, lists by area, status and type, and what is due to expire."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.domain.postings import EmploymentType, PayUnit, PostingStatus
from jobs.models import postings_t
from jobs.views.common import Row, View, every, in_area, one


class JobView(View):
    """A posting, in snake_case schema.org JobPosting words; pay in fen per `pay_unit`."""

    job_id: str
    title: str
    description: str
    employment_type: EmploymentType
    hiring_organization: str
    partner_id: str | None
    community_code: str
    grid_code: str | None
    job_location: str
    pay_fen: int
    pay_unit: PayUnit
    work_hours: str
    schedule: list[dict[str, Any]]
    skills: list[str]
    total_job_openings: int
    filled: int
    status: PostingStatus
    valid_through: datetime
    created_by: str
    published_at: datetime | None


async def job(session: AsyncSession, job_id: str) -> Row | None:
    return await one(session, select(postings_t).where(postings_t.c.job_id == job_id))


async def open_jobs(session: AsyncSession) -> list[Row]:
    return await every(session, select(postings_t).where(postings_t.c.status == "published"))


async def jobs(
    session: AsyncSession,
    *,
    area: str | None,
    status: str | None,
    employment_type: str | None,
    partner_id: str | None,
    limit: int,
    offset: int,
) -> list[Row]:
    stmt = select(postings_t)
    if area:
        stmt = stmt.where(in_area(postings_t.c.community_code, area))
    if status:
        stmt = stmt.where(postings_t.c.status == status)
    if employment_type:
        stmt = stmt.where(postings_t.c.employment_type == employment_type)
    if partner_id:
        stmt = stmt.where(postings_t.c.partner_id == partner_id)
    stmt = stmt.order_by(postings_t.c.valid_through, postings_t.c.job_id).limit(limit).offset(offset)
    return await every(session, stmt)


async def expired_jobs(session: AsyncSession, now: datetime) -> list[str]:
    stmt = select(postings_t.c.job_id).where(postings_t.c.status == "published", postings_t.c.valid_through <= now)
    return list((await session.execute(stmt)).scalars())
