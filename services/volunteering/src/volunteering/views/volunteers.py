"""A volunteer's record: shifts served, totals, giving-back marks, the ledger statement,
and the verified service a certificate lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from doorstep_shared.domain import as_utc
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from volunteering.models import activities_t as AR
from volunteering.models import helped_t as H
from volunteering.models import ledger_t as L
from volunteering.models import participations_t as P
from volunteering.models import teams_t as T
from volunteering.models import totals_t as V
from volunteering.views.common import hours, row_dict


async def history(session: AsyncSession, resident_id: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(P, AR.c.title, AR.c.place, T.c.name.label("team_name"))
            .join(AR, AR.c.activity_id == P.c.activity_id)
            .join(T, T.c.team_id == P.c.team_id)
            .where(P.c.resident_id == resident_id)
            .order_by(P.c.starts_at.desc())
        )
    ).all()
    return [row_dict(r) for r in rows]


async def totals(session: AsyncSession, resident_id: str) -> dict[str, Any]:
    row = (await session.execute(select(V).where(V.c.resident_id == resident_id))).first()
    out: dict[str, Any] = (
        row_dict(row)
        if row
        else {
            "resident_id": resident_id,
            "community_code": None,
            "balance": 0,
            "points_earned": 0,
            "points_redeemed": 0,
            "verified_minutes": 0,
            "first_verified_at": None,
        }
    )
    out["verified_hours"] = hours(out["verified_minutes"])
    return out


async def giving_back(session: AsyncSession, resident_id: str) -> dict[str, Any] | None:
    row = (await session.execute(select(H).where(H.c.resident_id == resident_id))).first()
    if row is None:
        return None
    out = row_dict(row)
    out.pop("resident_id")
    out["hired"], out["trained"] = row.hired_at is not None, row.trained_at is not None
    out["paid_for_piecework"] = row.piecework_at is not None
    return out


async def statement(session: AsyncSession, resident_id: str) -> dict[str, Any]:
    """Every entry in order; the balance is their sum, and each line shows the balance it left."""
    rows = (await session.execute(select(L).where(L.c.resident_id == resident_id).order_by(L.c.seq))).all()
    entries = [row_dict(r) for r in rows]
    return {
        "resident_id": resident_id,
        "balance": sum(e["points"] for e in entries),
        "verified_minutes": sum(e["minutes"] for e in entries),
        "entries": entries,
    }


async def certificate_records(
    session: AsyncSession, resident_id: str, since: datetime | None, until: datetime | None
) -> list[dict[str, Any]]:
    """Verified service only: who served, in which team, what, when, how long, verified by whom."""
    stmt = (
        select(
            P.c.activity_id,
            AR.c.title,
            AR.c.place,
            P.c.starts_at,
            P.c.ends_at,
            P.c.checked_in_at,
            P.c.checked_out_at,
            P.c.verified_minutes,
            P.c.verified_by,
            P.c.verified_at,
            T.c.team_id,
            T.c.name.label("team_name"),
            T.c.focus,
            T.c.community_code,
        )
        .join(AR, AR.c.activity_id == P.c.activity_id)
        .join(T, T.c.team_id == P.c.team_id)
        .where(P.c.resident_id == resident_id, P.c.verified_minutes.is_not(None))
        .order_by(P.c.starts_at)
    )
    if since is not None:
        stmt = stmt.where(P.c.starts_at >= as_utc(since))
    if until is not None:
        stmt = stmt.where(P.c.starts_at < as_utc(until))
    return [row_dict(r) for r in (await session.execute(stmt)).all()]
