"""Applications as read: one, or those of a job or of a resident."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.domain.applications import ApplicationStatus
from jobs.models import applications_t
from jobs.views.common import Row, View, every, one


class ApplicationView(View):
    """`community_code` is the resident's, `job_community_code` the job's; `resident_id`
    reads `erased` once registration erased the resident."""

    application_id: str
    job_id: str
    resident_id: str
    partner_id: str | None
    community_code: str
    job_community_code: str
    fair_id: str | None
    status: ApplicationStatus
    on_behalf: bool
    applied_by: str
    note: str
    updated_at: datetime | None


async def application(session: AsyncSession, application_id: str) -> Row | None:
    return await one(session, select(applications_t).where(applications_t.c.application_id == application_id))


async def applications(
    session: AsyncSession,
    *,
    job_id: str | None = None,
    resident_id: str | None = None,
    status: str | None = None,
) -> list[Row]:
    stmt = select(applications_t)
    if job_id:
        stmt = stmt.where(applications_t.c.job_id == job_id)
    if resident_id:
        stmt = stmt.where(applications_t.c.resident_id == resident_id)
    if status:
        stmt = stmt.where(applications_t.c.status == status)
    return await every(session, stmt.order_by(applications_t.c.updated_at, applications_t.c.application_id))
