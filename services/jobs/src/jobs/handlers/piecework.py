"""Piecework: a processor places an order, issues material batches to residents, records
checked deliveries and pays each resident what the deliveries earned."""

from __future__ import annotations

from doorstep_shared.auth import Principal
from doorstep_shared.domain import new_id
from doorstep_shared.uow import CommandResult, UnitOfWork

from jobs.authz import require_owner_or_staff, require_partner_kind
from jobs.commands.piecework import CloseOrder, IssueBatch, PlaceOrder, RecordDelivery, SettlePayout
from jobs.domain.piecework import PieceworkOrder
from jobs.handlers.registry import Ctx, handlers
from jobs.handlers.residents import active_resident


@handlers.register
async def place_order(cmd: PlaceOrder, ctx: Ctx) -> CommandResult:
    actor = ctx.user
    require_partner_kind(actor, "piecework_processor")
    assert actor.partner_id is not None
    order = PieceworkOrder.place(
        new_id(),
        partner_id=actor.partner_id,
        processor_name=actor.name,
        community_code=cmd.community_code,
        item=cmd.item,
        quantity=cmd.quantity,
        rate_fen=cmd.rate_fen,
        deadline=cmd.deadline,
        now=ctx.now,
    )
    ctx.uow.add(order)
    return ctx.uow.result(order)


async def _own_order(uow: UnitOfWork, order_id: str, actor: Principal) -> PieceworkOrder:
    order = await uow.get(PieceworkOrder, order_id, what="order")
    require_owner_or_staff(actor, order.partner_id, order.community_code, "order_id")
    return order


@handlers.register
async def issue_batch(cmd: IssueBatch, ctx: Ctx) -> CommandResult:
    order = await _own_order(ctx.uow, cmd.order_id, ctx.user)
    await active_resident(ctx.uow, cmd.resident_id)
    batch_id = new_id()
    order.issue_batch(batch_id, cmd.resident_id, cmd.quantity, ctx.now)
    return ctx.uow.result(order, batch_id=batch_id)


@handlers.register
async def deliver(cmd: RecordDelivery, ctx: Ctx) -> CommandResult:
    order = await _own_order(ctx.uow, cmd.order_id, ctx.user)
    delivery_id = new_id()
    amount = order.deliver(delivery_id, cmd.batch_id, cmd.accepted, cmd.rejected, ctx.now)
    return ctx.uow.result(order, delivery_id=delivery_id, amount_fen=amount)


@handlers.register
async def settle(cmd: SettlePayout, ctx: Ctx) -> CommandResult:
    order = await _own_order(ctx.uow, cmd.order_id, ctx.user)
    amount, deliveries = order.settle(cmd.resident_id)
    return ctx.uow.result(order, amount_fen=amount, delivery_ids=deliveries)


@handlers.register
async def close_order(cmd: CloseOrder, ctx: Ctx) -> CommandResult:
    order = await _own_order(ctx.uow, cmd.order_id, ctx.user)
    order.close(cmd.reason or "order complete")
    return ctx.uow.result(order)
