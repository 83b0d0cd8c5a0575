"""Piecework: processors place orders and pay per accepted piece; staff follow the money."""

from __future__ import annotations

from doorstep_shared.auth import CurrentPrincipal, Principal
from doorstep_shared.commands import CommandAccepted, Dispatch
from doorstep_shared.inputs import AreaCodeQuery
from doorstep_shared.runtime import ConsistentRead
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.authz import order_listing_scope, require_owner_or_area_staff
from jobs.commands.piecework import (
    BatchIssued,
    CloseOrder,
    DeliveryRecorded,
    IssueBatch,
    PayoutSettled,
    PlaceOrder,
    RecordDelivery,
    SettlePayout,
)
from jobs.deps import Deps
from jobs.views import piecework
from jobs.views.common import Row, found
from jobs.views.piecework import OrderProgress, OrderView, ResidentMoney, SettlementView

router = APIRouter(tags=["piecework"])


@router.post(
    "/piecework/orders",
    status_code=201,
    response_model=CommandAccepted,
    summary="A processor places a piecework order",
)
async def place_order(body: PlaceOrder, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body, status_code=201)


@router.post(
    "/piecework/orders/{order_id}/batches",
    status_code=201,
    response_model=BatchIssued,
    summary="Issue a material batch",
)
async def issue_batch(order_id: str, body: IssueBatch, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(order_id=order_id), status_code=201)


@router.post(
    "/piecework/orders/{order_id}/deliveries",
    status_code=201,
    response_model=DeliveryRecorded,
    summary="Record a checked delivery (accepted and rejected pieces)",
)
async def deliver(order_id: str, body: RecordDelivery, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(order_id=order_id), status_code=201)


@router.post(
    "/piecework/orders/{order_id}/settlements",
    status_code=201,
    response_model=PayoutSettled,
    summary="Pay a resident everything owed on the order",
)
async def settle(order_id: str, body: SettlePayout, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(order_id=order_id), status_code=201)


@router.post(
    "/piecework/orders/{order_id}/close",
    response_model=CommandAccepted,
    summary="Close the order to new batches",
)
async def close_order(order_id: str, body: CloseOrder, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(order_id=order_id), status_code=200)


async def _order_for(s: AsyncSession, principal: Principal, order_id: str) -> Row:
    row = found(await piecework.order(s, order_id), "order", "order_id")
    require_owner_or_area_staff(principal, row["partner_id"], row["community_code"], "order_id")
    return row


@router.get(
    "/piecework/orders",
    response_model=list[OrderView],
    summary="Orders of a processor, or in an area for staff",
)
async def list_orders(
    principal: CurrentPrincipal, deps: Deps, _c: ConsistentRead, area: AreaCodeQuery | None = None
) -> list[Row]:
    area, partner_id = order_listing_scope(principal, area)
    async with deps.db.session() as s:
        return await piecework.orders(s, area=area, partner_id=partner_id)


@router.get("/piecework/orders/{order_id}", response_model=OrderProgress, summary="An order's progress")
async def get_order(order_id: str, principal: CurrentPrincipal, deps: Deps, _c: ConsistentRead) -> Row:
    async with deps.db.session() as s:
        return await _order_for(s, principal, order_id)


@router.get(
    "/piecework/orders/{order_id}/residents",
    response_model=list[ResidentMoney],
    summary="Pieces and money earned, paid and owed per resident",
)
async def order_residents(order_id: str, principal: CurrentPrincipal, deps: Deps, _c: ConsistentRead) -> list[Row]:
    async with deps.db.session() as s:
        await _order_for(s, principal, order_id)
        return await piecework.money_per_resident(s, order_id)


@router.get(
    "/piecework/orders/{order_id}/settlements",
    response_model=list[SettlementView],
    summary="Payouts, each with the deliveries it paid",
)
async def order_settlements(order_id: str, principal: CurrentPrincipal, deps: Deps, _c: ConsistentRead) -> list[Row]:
    async with deps.db.session() as s:
        await _order_for(s, principal, order_id)
        return await piecework.settlements(s, order_id)
