"""Leaderboards and an area's volunteering figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from doorstep_shared.domain import as_utc
from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from volunteering.domain.activities import CHECKED_IN, COMPLETED
from volunteering.models import activities_t as AR
from volunteering.models import helped_t as H
from volunteering.models import ledger_t as L
from volunteering.models import members_t as M
from volunteering.models import participations_t as P
from volunteering.models import teams_t as T
from volunteering.models import totals_t as V
from volunteering.views.common import hours, in_area, row_dict

Ranking = Literal["hours", "points"]  # what a leaderboard ranks volunteers by


async def leaderboard(session: AsyncSession, area_code: str, by: Ranking, limit: int) -> list[dict[str, Any]]:
    column = V.c.verified_minutes if by == "hours" else V.c.points_earned
    rows = (
        await session.execute(
            select(V)
            .where(in_area(V.c.community_code, area_code), column > 0)
            .order_by(column.desc(), V.c.resident_id)
            .limit(limit)
        )
    ).all()
    return [
        {**row_dict(r), "rank": i, "verified_hours": hours(r.verified_minutes)} for i, r in enumerate(rows, start=1)
    ]


async def figures(
    session: AsyncSession, area_code: str, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    """Teams, members, active volunteers, verified hours, points issued/redeemed, givers-back."""

    def period(column: Any) -> list[Any]:
        out = []
        if since is not None:
            out.append(column >= as_utc(since))
        if until is not None:
            out.append(column < as_utc(until))
        return out

    team_count = (
        await session.execute(select(func.count()).select_from(T).where(in_area(T.c.community_code, area_code)))
    ).scalar_one()
    members = (
        await session.execute(
            select(func.count(func.distinct(M.c.resident_id)))
            .select_from(M.join(T, T.c.team_id == M.c.team_id))
            .where(in_area(T.c.community_code, area_code), M.c.status == "active")
        )
    ).scalar_one()
    served = and_(
        in_area(P.c.community_code, area_code),
        P.c.status.in_([CHECKED_IN, COMPLETED]),
        *period(P.c.starts_at),
    )
    active = (await session.execute(select(func.count(func.distinct(P.c.resident_id))).where(served))).scalar_one()
    activities = (
        await session.execute(
            select(func.count()).select_from(AR).where(in_area(AR.c.community_code, area_code), *period(AR.c.starts_at))
        )
    ).scalar_one()
    ledger = (
        await session.execute(
            select(
                func.coalesce(func.sum(L.c.minutes), 0).label("minutes"),
                func.coalesce(func.sum(case((L.c.kind == "credit", L.c.points), else_=0)), 0).label("issued"),
                func.coalesce(func.sum(case((L.c.kind == "credit", 0), else_=-L.c.points)), 0).label("redeemed"),
            ).where(in_area(L.c.community_code, area_code), *period(L.c.at))
        )
    ).one()
    givers_back = (
        await session.execute(
            select(func.count(func.distinct(H.c.resident_id)))
            .select_from(H.join(P, P.c.resident_id == H.c.resident_id))
            .where(
                in_area(P.c.community_code, area_code),
                P.c.verified_minutes.is_not(None),
                P.c.starts_at >= H.c.first_helped_at,
                *period(P.c.starts_at),
            )
        )
    ).scalar_one()
    return {
        "area_code": area_code,
        "since": since,
        "until": until,
        "teams": team_count,
        "team_members": members,
        "activities": activities,
        "active_volunteers": active,
        "verified_minutes": int(ledger.minutes),
        "verified_hours": hours(int(ledger.minutes)),
        "points_issued": int(ledger.issued),
        "points_redeemed": int(ledger.redeemed),
        "givers_back": givers_back,
    }
