"""Upcoming activities, one activity, its roster and waiting list, one volunteer's place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from doorstep_shared.domain import as_utc
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from volunteering.domain.activities import CANCELLED, WAITING
from volunteering.models import activities_t as AR
from volunteering.models import participations_t as P
from volunteering.models import teams_t as T
from volunteering.views.common import in_area, row_dict


def _activity_columns() -> list[Any]:
    return [
        *AR.c,
        (AR.c.capacity - AR.c.scheduled_count).label("free_places"),
        T.c.name.label("team_name"),
        T.c.focus,
    ]


async def upcoming(
    session: AsyncSession,
    area_code: str,
    now: datetime,
    *,
    skill: str | None,
    free_only: bool,
    limit: int,
) -> list[dict[str, Any]]:
    stmt = (
        select(*_activity_columns())
        .join(T, T.c.team_id == AR.c.team_id)
        .where(
            in_area(AR.c.community_code, area_code),
            AR.c.status == "open",
            AR.c.starts_at > as_utc(now),
        )
        .order_by(AR.c.starts_at, AR.c.activity_id)
        .limit(limit)
    )
    if free_only:
        stmt = stmt.where(AR.c.scheduled_count < AR.c.capacity)
    rows = [row_dict(r) for r in (await session.execute(stmt)).all()]
    if skill:  # skills are a short JSON list: filter here rather than per dialect
        rows = [r for r in rows if skill in (r["skills_wanted"] or [])]
    return rows


async def activity(session: AsyncSession, activity_id: str) -> dict[str, Any] | None:
    row = (
        await session.execute(
            select(*_activity_columns()).join(T, T.c.team_id == AR.c.team_id).where(AR.c.activity_id == activity_id)
        )
    ).first()
    return row_dict(row) if row else None


async def participants(session: AsyncSession, activity_id: str) -> dict[str, list[dict[str, Any]]]:
    """The roster of a shift, the waiting list in the order it will be promoted."""
    rows = (
        await session.execute(
            select(P).where(P.c.activity_id == activity_id).order_by(P.c.waiting_seq, P.c.signed_up_at, P.c.resident_id)
        )
    ).all()
    out: dict[str, list[dict[str, Any]]] = {"volunteers": [], "waiting_list": [], "cancelled": []}
    for r in rows:
        item = row_dict(r)
        if r.status == WAITING:
            out["waiting_list"].append(item)
        elif r.status == CANCELLED:
            out["cancelled"].append(item)
        else:
            out["volunteers"].append(item)
    return out


async def participation(session: AsyncSession, activity_id: str, resident_id: str) -> dict[str, Any] | None:
    row = (
        await session.execute(select(P).where(P.c.activity_id == activity_id, P.c.resident_id == resident_id))
    ).first()
    return row_dict(row) if row else None
