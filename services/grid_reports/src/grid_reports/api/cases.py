"""Cases over HTTP: report, the dispatch and handling commands, and the case queries."""

from __future__ import annotations

from typing import Annotated, Any

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.commands import Dispatch
from doorstep_shared.inputs import Offset, QueryText
from doorstep_shared.runtime import ConsistentRead, RuntimeDep
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from grid_reports import authz, views
from grid_reports.api.params import AreaCode, Limit
from grid_reports.commands import (
    AcceptCase,
    AssignCase,
    CloseCase,
    GiveFeedback,
    MergeCase,
    RejectCase,
    ReportCase,
    ResolveCase,
    SetPublicSummary,
    StartCase,
)
from grid_reports.domain.rules import KINDS, choice_pattern
from grid_reports.schemas import CaseReply, CaseView, HistoryEntry, ReportedCase

router = APIRouter(prefix="/cases", tags=["cases"])


# commands ---------------------------------------------------------------------------------


@router.post("", status_code=201, response_model=ReportedCase, summary="Report a case")
async def report_case(body: ReportCase, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body, status_code=201)


@router.post("/{case_id}/accept", response_model=CaseReply, summary="Accept a reported case (file it)")
async def accept_case(case_id: str, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(AcceptCase(case_id=case_id), status_code=200)


@router.post("/{case_id}/reject", response_model=CaseReply, summary="Reject a reported case, with the reason")
async def reject_case(case_id: str, body: RejectCase, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(case_id=case_id), status_code=200)


@router.post("/{case_id}/merge", response_model=CaseReply, summary="Merge a duplicate into an open case")
async def merge_case(case_id: str, body: MergeCase, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(case_id=case_id), status_code=200)


@router.post("/{case_id}/assign", response_model=CaseReply, summary="Dispatch a case to a grid worker")
async def assign_case(case_id: str, body: AssignCase, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(case_id=case_id), status_code=200)


@router.post("/{case_id}/start", response_model=CaseReply, summary="The assigned grid worker starts handling the case")
async def start_case(case_id: str, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(StartCase(case_id=case_id), status_code=200)


@router.post(
    "/{case_id}/resolve", response_model=CaseReply, summary="The assigned grid worker reports the case handled"
)
async def resolve_case(case_id: str, body: ResolveCase, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(case_id=case_id), status_code=200)


@router.post(
    "/{case_id}/feedback",
    response_model=CaseReply,
    summary="The reporter's satisfaction: 3-5 closes the case, 1-2 reopens it",
)
async def give_feedback(case_id: str, body: GiveFeedback, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(case_id=case_id), status_code=200)


@router.post(
    "/{case_id}/close",
    response_model=CaseReply,
    summary="Verify and close a resolved case after the feedback window",
)
async def close_case(case_id: str, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(CloseCase(case_id=case_id), status_code=200)


@router.post(
    "/{case_id}/public-summary",
    response_model=CaseReply,
    summary="The text the public Open311 listing shows for the case (no phone or ID number)",
)
async def set_public_summary(case_id: str, body: SetPublicSummary, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(case_id=case_id), status_code=200)


# queries ----------------------------------------------------------------------------------


@router.get("", response_model=list[CaseView], summary="List cases: staff see their areas, reporters their own")
async def list_cases(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _consistent: ConsistentRead,
    area: AreaCode | None = None,
    state: QueryText = None,
    kind: Annotated[str | None, Query(pattern=choice_pattern(KINDS))] = None,
    category: QueryText = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    filters: dict[str, Any] = {"state": state, "kind": kind, "category": category, "limit": limit, "offset": offset}
    if principal.is_staff:
        filters["areas"] = authz.scoped_areas(principal, area)
    else:
        filters["reporter_id"] = authz.actor_id(principal)
    async with runtime.db.session() as s:
        return await views.list_cases(s, **filters)


@router.get("/{case_id}", response_model=CaseView, summary="One case")
async def get_case(
    case_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _consistent: ConsistentRead
) -> dict[str, Any]:
    async with runtime.db.session() as s:
        return await views.readable_case(s, case_id, principal)


@router.get(
    "/{case_id}/history", response_model=list[HistoryEntry], summary="A case's full history: its events in order"
)
async def case_history(
    case_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _consistent: ConsistentRead
) -> list[dict[str, Any]]:
    async with runtime.db.session() as s:
        case = await views.readable_case(s, case_id, principal)
        return await views.history(s, runtime.store, case_id, erased=bool(case["erased"]))
