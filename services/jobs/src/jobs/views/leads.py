"""Job-seeker leads as read: those in the caller's grids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.domain.leads import LeadOutcome, LeadStatus
from jobs.models import leads_t
from jobs.views.common import Row, View, every, in_any


class LeadView(View):
    lead_id: str
    resident_id: str
    grid_code: str
    grid_worker_id: str
    visit_id: str
    note: str
    status: LeadStatus
    outcome: LeadOutcome | None
    opened_at: datetime | None


async def leads(session: AsyncSession, areas: tuple[str, ...], status: str | None) -> list[Row]:
    stmt = select(leads_t).where(in_any(leads_t.c.grid_code, areas))
    if status:
        stmt = stmt.where(leads_t.c.status == status)
    return await every(session, stmt.order_by(leads_t.c.opened_at).limit(500))
