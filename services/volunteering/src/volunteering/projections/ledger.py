"""Volunteers' ledgers in the read model: one row per entry (statements) and running
totals per volunteer (balances, leaderboards, area figures)."""

from __future__ import annotations

from typing import Any

from doorstep_contracts.volunteering import HoursVerified, PointsCredited, PointsRedeemed
from doorstep_shared.domain import as_utc
from doorstep_shared.messaging import Envelope
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from volunteering.models import ledger_t as L
from volunteering.models import totals_t as V
from volunteering.projections.own import own


@own.on(HoursVerified)
async def hours_verified(session: AsyncSession, env: Envelope) -> None:
    e = env.event(HoursVerified)
    at = as_utc(e.at)
    await _entry(session, env, e, kind="hours", minutes=e.minutes, source="activity", source_ref=e.activity_id)
    totals = await _totals(session, e.resident_id, e.community_code)
    await session.execute(
        update(V)
        .where(V.c.resident_id == e.resident_id)
        .values(
            verified_minutes=totals.verified_minutes + e.minutes,
            first_verified_at=totals.first_verified_at or at,
            community_code=e.community_code,
        )
    )


@own.on(PointsCredited)
async def points_credited(session: AsyncSession, env: Envelope) -> None:
    e = env.event(PointsCredited)
    await _entry(
        session,
        env,
        e,
        kind="credit",
        points=e.points,
        balance=e.balance,
        source=e.source,
        source_ref=e.source_ref,
    )
    totals = await _totals(session, e.resident_id, e.community_code)
    await session.execute(
        update(V)
        .where(V.c.resident_id == e.resident_id)
        .values(balance=e.balance, points_earned=totals.points_earned + e.points)
    )


@own.on(PointsRedeemed)
async def points_redeemed(session: AsyncSession, env: Envelope) -> None:
    e = env.event(PointsRedeemed)
    await _entry(
        session,
        env,
        e,
        kind="redemption",
        points=-e.points,
        balance=e.balance,
        channel=e.channel,
        partner_id=e.partner_id,
        reference=e.reference,
    )
    totals = await _totals(session, e.resident_id, e.community_code)
    await session.execute(
        update(V)
        .where(V.c.resident_id == e.resident_id)
        .values(balance=e.balance, points_redeemed=totals.points_redeemed + e.points)
    )


async def _entry(
    session: AsyncSession, env: Envelope, e: HoursVerified | PointsCredited | PointsRedeemed, **values: Any
) -> None:
    await session.execute(
        insert(L).values(
            entry_id=e.entry_id,
            resident_id=e.resident_id,
            seq=env.sequence,
            community_code=e.community_code,
            at=as_utc(e.at),
            **values,
        )
    )


async def _totals(session: AsyncSession, resident_id: str, community_code: str) -> Any:
    row = (await session.execute(select(V).where(V.c.resident_id == resident_id))).first()
    if row is None:
        await session.execute(insert(V).values(resident_id=resident_id, community_code=community_code))
        row = (await session.execute(select(V).where(V.c.resident_id == resident_id))).one()
    return row
