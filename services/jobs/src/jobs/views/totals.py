"""Per-area totals across the sub-domains, for staff."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.models import applications_t, enrolments_t, postings_t, settlements_t
from jobs.views.common import Row, View, in_area


class Totals(View):
    area_code: str
    postings: int
    open_postings: int
    applications: int
    hires: int
    piecework_paid_fen: int
    training_completions: int


async def totals(session: AsyncSession, area: str) -> Row:
    """Postings by the job's community, applications and hires by the resident's
    community, piecework pay by the order's community, completions by the course's."""

    async def scalar(stmt: Any) -> int:
        return int((await session.execute(stmt)).scalar() or 0)

    a = applications_t
    return {
        "area_code": area,
        "postings": await scalar(
            select(func.count()).where(in_area(postings_t.c.community_code, area), postings_t.c.status != "draft")
        ),
        "open_postings": await scalar(
            select(func.count()).where(in_area(postings_t.c.community_code, area), postings_t.c.status == "published")
        ),
        "applications": await scalar(select(func.count()).where(in_area(a.c.community_code, area))),
        "hires": await scalar(
            select(func.count()).where(and_(in_area(a.c.community_code, area), a.c.status == "hired"))
        ),
        "piecework_paid_fen": await scalar(
            select(func.sum(settlements_t.c.amount_fen)).where(in_area(settlements_t.c.community_code, area))
        ),
        "training_completions": await scalar(
            select(func.count()).where(
                in_area(enrolments_t.c.community_code, area), enrolments_t.c.status == "completed"
            )
        ),
    }
