"""Teams of an area, one team, and its roster with each member's hours."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from volunteering.domain.activities import CHECKED_IN, COMPLETED, HOLDS_A_PLACE
from volunteering.models import members_t as M
from volunteering.models import participations_t as P
from volunteering.models import teams_t as T
from volunteering.views.common import hours, in_area, row_dict


async def teams(session: AsyncSession, area_code: str, focus: str | None) -> list[dict[str, Any]]:
    stmt = select(T).where(in_area(T.c.community_code, area_code)).order_by(T.c.name)
    if focus:
        stmt = stmt.where(T.c.focus == focus)
    return [row_dict(r) for r in (await session.execute(stmt)).all()]


async def team(session: AsyncSession, team_id: str) -> dict[str, Any] | None:
    row = (await session.execute(select(T).where(T.c.team_id == team_id))).first()
    return row_dict(row) if row else None


async def roster(session: AsyncSession, team_id: str) -> dict[str, Any]:
    """A team's active members with their minutes in this team, and the team's totals."""
    per_member = (
        select(
            P.c.resident_id,
            func.coalesce(func.sum(P.c.verified_minutes), 0).label("verified_minutes"),
            func.coalesce(func.sum(case((P.c.status == COMPLETED, P.c.completed_minutes), else_=0)), 0).label(
                "completed_minutes"
            ),
            func.count().label("activities"),
        )
        .where(P.c.team_id == team_id, P.c.status.in_([CHECKED_IN, COMPLETED]))
        .group_by(P.c.resident_id)
        .subquery()
    )
    members = (
        await session.execute(
            select(
                M.c.resident_id,
                M.c.joined_at,
                func.coalesce(per_member.c.verified_minutes, 0).label("verified_minutes"),
                func.coalesce(per_member.c.completed_minutes, 0).label("completed_minutes"),
                func.coalesce(per_member.c.activities, 0).label("activities_attended"),
            )
            .outerjoin(per_member, per_member.c.resident_id == M.c.resident_id)
            .where(M.c.team_id == team_id, M.c.status == "active")
            .order_by(M.c.joined_at)
        )
    ).all()
    totals = (
        await session.execute(
            select(
                func.count(func.distinct(P.c.activity_id)).label("activities"),
                func.coalesce(
                    func.sum(case((P.c.status.in_(HOLDS_A_PLACE), P.c.scheduled_minutes), else_=0)),
                    0,
                ).label("scheduled_minutes"),
                func.coalesce(func.sum(case((P.c.status == COMPLETED, P.c.completed_minutes), else_=0)), 0).label(
                    "completed_minutes"
                ),
                func.coalesce(func.sum(P.c.verified_minutes), 0).label("verified_minutes"),
            ).where(P.c.team_id == team_id)
        )
    ).one()
    out = row_dict(totals)
    out["verified_hours"] = hours(out["verified_minutes"])
    return {
        "members": [{**row_dict(m), "verified_hours": hours(m.verified_minutes)} for m in members],
        "totals": out,
    }
