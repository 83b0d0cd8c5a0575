"""Visits over HTTP: record a door-knocking visit, list visits, residents whose visit is overdue."""

from __future__ import annotations

from typing import Any

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.commands import Dispatch
from doorstep_shared.inputs import Offset, QueryText
from doorstep_shared.runtime import ConsistentRead, RuntimeDep
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from grid_reports import authz, views
from grid_reports.api.params import AreaCode, Limit
from grid_reports.commands import RecordVisit
from grid_reports.schemas import OverdueVisit, VisitReply, VisitView

router = APIRouter(prefix="/visits", tags=["visits"])


@router.post("", status_code=201, response_model=VisitReply, summary="Record a visit (敲门行动) with its findings")
async def record_visit(body: RecordVisit, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body, status_code=201)


@router.get("", response_model=list[VisitView], summary="Visits in my areas (or one area), newest first")
async def list_visits(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _consistent: ConsistentRead,
    area: AreaCode | None = None,
    resident_id: QueryText = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    authz.require_staff(principal)
    areas = authz.scoped_areas(principal, area)
    async with runtime.db.session() as s:
        return await views.list_visits(s, areas, resident_id=resident_id, limit=limit, offset=offset)


@router.get("/overdue", response_model=list[OverdueVisit], summary="Key-population residents whose visit is overdue")
async def overdue_visits(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _consistent: ConsistentRead,
    area: AreaCode | None = None,
) -> list[dict[str, Any]]:
    authz.require_staff(principal)
    areas = authz.scoped_areas(principal, area)
    async with runtime.db.session() as s:
        return await views.overdue_visits(s, areas, runtime.now())
