"""Disputes over HTTP: open one for mediation, record sessions and the outcome, read them."""

from __future__ import annotations

from typing import Annotated, Any

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.commands import Dispatch
from doorstep_shared.inputs import Offset
from doorstep_shared.runtime import ConsistentRead, RuntimeDep
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from grid_reports import authz, views
from grid_reports.api.params import AreaCode, Limit
from grid_reports.commands import EndWithoutAgreement, HoldSession, OpenDispute, RecordAgreement
from grid_reports.domain.rules import DISPUTE_STATES, choice_pattern
from grid_reports.schemas import DisputeReply, DisputeSummary, DisputeView, SessionReply

router = APIRouter(prefix="/disputes", tags=["disputes"])


@router.post("", status_code=201, response_model=DisputeReply, summary="Open a dispute for mediation")
async def open_dispute(body: OpenDispute, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body, status_code=201)


@router.post(
    "/{dispute_id}/sessions", status_code=201, response_model=SessionReply, summary="Record a mediation session"
)
async def hold_session(dispute_id: str, body: HoldSession, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(dispute_id=dispute_id), status_code=201)


@router.post("/{dispute_id}/agreement", response_model=DisputeReply, summary="Record the agreement reached")
async def record_agreement(dispute_id: str, body: RecordAgreement, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(dispute_id=dispute_id), status_code=200)


@router.post("/{dispute_id}/no-agreement", response_model=DisputeReply, summary="End mediation without agreement")
async def end_without_agreement(dispute_id: str, body: EndWithoutAgreement, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(dispute_id=dispute_id), status_code=200)


@router.get("", response_model=list[DisputeSummary], summary="Disputes in my areas")
async def list_disputes(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _consistent: ConsistentRead,
    area: AreaCode | None = None,
    state: Annotated[str | None, Query(pattern=choice_pattern(DISPUTE_STATES))] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    authz.require_staff(principal)
    areas = authz.scoped_areas(principal, area)
    async with runtime.db.session() as s:
        return await views.list_disputes(s, areas, state=state, limit=limit, offset=offset)


@router.get("/{dispute_id}", response_model=DisputeView, summary="A dispute with its parties and mediation sessions")
async def get_dispute(
    dispute_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _consistent: ConsistentRead
) -> dict[str, Any]:
    authz.require_staff(principal)
    async with runtime.db.session() as s:
        return await views.readable_dispute(s, dispute_id, principal)
