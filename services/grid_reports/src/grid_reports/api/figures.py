"""Figures over HTTP: a grid worker's queue, a community's board, an area's figures over a period."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from doorstep_shared.areas import SHAPE, is_area_code
from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.domain import InvalidInput, as_utc
from doorstep_shared.runtime import ConsistentRead, RuntimeDep
from fastapi import APIRouter

from grid_reports import authz, views
from grid_reports.deps import Deps
from grid_reports.schemas import Board, Figures, Queue

router = APIRouter(tags=["queries"])
DEFAULT_PERIOD = timedelta(days=30)


@router.get("/queue", response_model=Queue, summary="My queue: assigned, waiting in my grids, due soon, overdue")
async def my_queue(
    principal: CurrentPrincipal, runtime: RuntimeDep, deps: Deps, _consistent: ConsistentRead
) -> dict[str, Any]:
    authz.require_staff(principal)
    async with runtime.db.session() as s:
        return await views.queue(s, principal.subject, principal.areas, runtime.now(), deps.due_soon)


@router.get(
    "/communities/{community_code}/board",
    response_model=Board,
    summary="A community's board by category and state",
)
async def community_board(
    community_code: str, principal: CurrentPrincipal, runtime: RuntimeDep, _consistent: ConsistentRead
) -> dict[str, Any]:
    authz.require_staff(principal)
    if len(community_code) != 12 or not community_code.isdigit():
        raise InvalidInput("community code must be 12 digits", field="community_code")
    authz.require_community_reader(principal, community_code)
    async with runtime.db.session() as s:
        return await views.board(s, community_code)


@router.get(
    "/areas/{area_code}/figures",
    response_model=Figures,
    summary="Per-area figures over a period (default: 30 days)",
)
async def area_figures(
    area_code: str,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _consistent: ConsistentRead,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    authz.require_figures_reader(principal)
    if not is_area_code(area_code):
        raise InvalidInput(f"not an area code ({SHAPE} digits)", field="area_code")
    principal.require_area(area_code)
    end = as_utc(until) if until else runtime.now()
    start = as_utc(since) if since else end - DEFAULT_PERIOD
    if start >= end:
        raise InvalidInput("since must be before until", field="since")
    async with runtime.db.session() as s:
        return await views.figures(s, area_code, start, end)
