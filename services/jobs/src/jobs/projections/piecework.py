"""Piecework read model: orders with running totals, batches, deliveries and payouts.
Each payout row is linked to exactly the deliveries it paid."""

from __future__ import annotations

from datetime import datetime

from doorstep_contracts.jobs import (
    MaterialBatchIssued,
    PieceworkDelivered,
    PieceworkOrderClosed,
    PieceworkOrderPlaced,
    PieceworkPayoutSettled,
)
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection
from doorstep_shared.writes import upsert
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.models import batches_t, deliveries_t, orders_t, settlements_t
from jobs.projections.rows import bump, set_values


def register(p: Projection) -> None:
    @p.on(PieceworkOrderPlaced)
    async def placed(session: AsyncSession, env: Envelope) -> None:
        d = {**env.data, "deadline": datetime.fromisoformat(env.data["deadline"]), "status": "open"}
        await upsert(session, orders_t, [d], ["order_id"])

    @p.on(MaterialBatchIssued)
    async def batch_issued(session: AsyncSession, env: Envelope) -> None:
        e = env.event(MaterialBatchIssued)
        row = {
            "batch_id": e.batch_id,
            "order_id": e.order_id,
            "resident_id": e.resident_id,
            "quantity": e.quantity,
            "delivered": 0,
            "issued_at": datetime.fromisoformat(e.issued_at),
        }
        await upsert(session, batches_t, [row], ["batch_id"])
        await bump(session, orders_t, "order_id", e.order_id, "issued", e.quantity)

    @p.on(PieceworkDelivered)
    async def delivered(session: AsyncSession, env: Envelope) -> None:
        e = env.event(PieceworkDelivered)
        row = {
            "delivery_id": e.delivery_id,
            "order_id": e.order_id,
            "batch_id": e.batch_id,
            "resident_id": e.resident_id,
            "accepted": e.accepted,
            "rejected": e.rejected,
            "amount_fen": e.amount_fen,
            "delivered_at": datetime.fromisoformat(e.delivered_at),
        }
        await upsert(session, deliveries_t, [row], ["delivery_id"])
        await bump(session, batches_t, "batch_id", e.batch_id, "delivered", e.accepted + e.rejected)
        await session.execute(
            update(orders_t)
            .where(orders_t.c.order_id == e.order_id)
            .values(
                accepted=orders_t.c.accepted + e.accepted,
                rejected=orders_t.c.rejected + e.rejected,
                earned_fen=orders_t.c.earned_fen + e.amount_fen,
            )
        )

    @p.on(PieceworkPayoutSettled)
    async def settled(session: AsyncSession, env: Envelope) -> None:
        """The payout covers exactly the resident's deliveries not yet settled on this order."""
        e = env.event(PieceworkPayoutSettled)
        settlement_id = f"{e.order_id}:{env.sequence}"
        community = (
            await session.execute(select(orders_t.c.community_code).where(orders_t.c.order_id == e.order_id))
        ).scalar() or ""
        row = {
            "settlement_id": settlement_id,
            "order_id": e.order_id,
            "resident_id": e.resident_id,
            "community_code": community,
            "amount_fen": e.amount_fen,
            "pieces": e.pieces,
            "settled_at": env.time,
        }
        await upsert(session, settlements_t, [row], ["settlement_id"])
        await session.execute(
            update(deliveries_t)
            .where(
                deliveries_t.c.order_id == e.order_id,
                deliveries_t.c.resident_id == e.resident_id,
                deliveries_t.c.settlement_id.is_(None),
            )
            .values(settlement_id=settlement_id)
        )
        await bump(session, orders_t, "order_id", e.order_id, "paid_fen", e.amount_fen)

    @p.on(PieceworkOrderClosed)
    async def closed(session: AsyncSession, env: Envelope) -> None:
        await set_values(session, orders_t, "order_id", env.event(PieceworkOrderClosed).order_id, status="closed")
