"""Job fairs as read: lists by area, date range and series; one fair with its employers,
its sign-ups (for organisers) and its hires."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.domain.fairs import FairKind, FairStatus
from jobs.models import fair_employers_t, fair_signups_t, fairs_t
from jobs.views.common import Row, View, every, in_area, one


class FairView(View):
    fair_id: str
    kind: FairKind
    title: str
    community_code: str
    place: str
    date: str
    start: str
    end: str
    series_id: str | None
    rule: str | None
    status: FairStatus
    employers: int
    signups: int
    hires: int


class FairEmployer(View):
    partner_id: str
    employer_name: str
    job_ids: list[str]


class FairSignup(View):
    resident_id: str
    signed_up_by: str


class FairDetail(FairView):
    employer_list: list[FairEmployer]
    signup_list: list[FairSignup] | None = None  # absent unless the caller organises the fair


async def fair(session: AsyncSession, fair_id: str) -> Row | None:
    row = await one(session, select(fairs_t).where(fairs_t.c.fair_id == fair_id))
    if row is None:
        return None
    row["employer_list"] = await every(
        session,
        select(
            fair_employers_t.c.partner_id,
            fair_employers_t.c.employer_name,
            fair_employers_t.c.job_ids,
        ).where(fair_employers_t.c.fair_id == fair_id),
    )
    row["signup_list"] = await every(
        session,
        select(fair_signups_t.c.resident_id, fair_signups_t.c.signed_up_by).where(fair_signups_t.c.fair_id == fair_id),
    )
    return row


async def fairs(
    session: AsyncSession,
    *,
    area: str | None,
    date_from: str | None,
    date_to: str | None,
    series_id: str | None,
) -> list[Row]:
    stmt = select(fairs_t)
    if area:
        stmt = stmt.where(in_area(fairs_t.c.community_code, area))
    if date_from:
        stmt = stmt.where(fairs_t.c.date >= date_from)
    if date_to:
        stmt = stmt.where(fairs_t.c.date <= date_to)
    if series_id:
        stmt = stmt.where(fairs_t.c.series_id == series_id)
    return await every(session, stmt.order_by(fairs_t.c.date, fairs_t.c.fair_id).limit(500))
