"""Piecework as read: orders and their batches, money per resident, payouts with the
deliveries they paid (the fen add up exactly)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.domain.piecework import OrderStatus
from jobs.models import batches_t, deliveries_t, orders_t, settlements_t
from jobs.views.common import Row, View, every, in_area, one


class OrderView(View):
    order_id: str
    partner_id: str
    processor_name: str
    community_code: str
    item: str
    quantity: int
    rate_fen: int
    deadline: datetime
    status: OrderStatus
    issued: int
    accepted: int
    rejected: int
    earned_fen: int
    paid_fen: int


class BatchView(View):
    batch_id: str
    order_id: str
    resident_id: str
    quantity: int
    delivered: int
    issued_at: datetime


class OrderProgress(OrderView):
    delivered: int
    owed_fen: int
    batches: list[BatchView]


class ResidentMoney(View):
    """Pieces and fen of one resident on one order."""

    resident_id: str
    issued: int
    accepted: int
    rejected: int
    earned_fen: int
    paid_fen: int
    owed_fen: int


class PaidDelivery(View):
    delivery_id: str
    batch_id: str
    accepted: int
    rejected: int
    amount_fen: int
    delivered_at: datetime


class SettlementView(View):
    settlement_id: str
    order_id: str
    resident_id: str
    community_code: str
    amount_fen: int
    pieces: int
    settled_at: datetime | None
    deliveries: list[PaidDelivery]


async def order(session: AsyncSession, order_id: str) -> Row | None:
    row = await one(session, select(orders_t).where(orders_t.c.order_id == order_id))
    if row is None:
        return None
    row["delivered"] = row["accepted"] + row["rejected"]
    row["owed_fen"] = row["earned_fen"] - row["paid_fen"]
    row["batches"] = await every(
        session,
        select(batches_t).where(batches_t.c.order_id == order_id).order_by(batches_t.c.issued_at),
    )
    return row


async def orders(session: AsyncSession, *, area: str | None, partner_id: str | None) -> list[Row]:
    stmt = select(orders_t)
    if area:
        stmt = stmt.where(in_area(orders_t.c.community_code, area))
    if partner_id:
        stmt = stmt.where(orders_t.c.partner_id == partner_id)
    return await every(session, stmt.order_by(orders_t.c.deadline).limit(500))


async def money_per_resident(session: AsyncSession, order_id: str) -> list[Row]:
    """Per resident: pieces issued, delivered, accepted, earned, paid and still owed."""
    d = deliveries_t
    earned = await every(
        session,
        select(
            d.c.resident_id,
            func.sum(d.c.accepted).label("accepted"),
            func.sum(d.c.rejected).label("rejected"),
            func.sum(d.c.amount_fen).label("earned_fen"),
            func.sum(case((d.c.settlement_id.is_(None), d.c.amount_fen), else_=0)).label("owed_fen"),
        )
        .where(d.c.order_id == order_id)
        .group_by(d.c.resident_id),
    )
    issued: dict[str, int] = dict(
        (
            await session.execute(
                select(batches_t.c.resident_id, func.sum(batches_t.c.quantity))
                .where(batches_t.c.order_id == order_id)
                .group_by(batches_t.c.resident_id)
            )
        ).all()
    )
    by_resident = {r["resident_id"]: r for r in earned}
    out = []
    for rid in sorted(set(issued) | set(by_resident)):
        r = by_resident.get(rid, {"accepted": 0, "rejected": 0, "earned_fen": 0, "owed_fen": 0})
        out.append(
            {
                "resident_id": rid,
                "issued": int(issued.get(rid, 0)),
                "accepted": int(r["accepted"] or 0),
                "rejected": int(r["rejected"] or 0),
                "earned_fen": int(r["earned_fen"] or 0),
                "paid_fen": int(r["earned_fen"] or 0) - int(r["owed_fen"] or 0),
                "owed_fen": int(r["owed_fen"] or 0),
            }
        )
    return out


async def settlements(session: AsyncSession, order_id: str) -> list[Row]:
    """Each payout with the deliveries it paid."""
    rows = await every(
        session,
        select(settlements_t).where(settlements_t.c.order_id == order_id).order_by(settlements_t.c.settled_at),
    )
    for row in rows:
        row["deliveries"] = await every(
            session,
            select(
                deliveries_t.c.delivery_id,
                deliveries_t.c.batch_id,
                deliveries_t.c.accepted,
                deliveries_t.c.rejected,
                deliveries_t.c.amount_fen,
                deliveries_t.c.delivered_at,
            )
            .where(deliveries_t.c.settlement_id == row["settlement_id"])
            .order_by(deliveries_t.c.delivered_at),
        )
    return rows
