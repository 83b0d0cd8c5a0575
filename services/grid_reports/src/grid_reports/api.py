"""HTTP API of grid reports: case commands and queries, visits, disputes, figures.

Commands answer `{id, version, position, ...}` and honour `Idempotency-Key`;
queries accept `?after=POSITION` to read their own writes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from doorstep_shared.auth import ADMIN_ROLES, CurrentPrincipal, Principal, Role
from doorstep_shared.domain import Forbidden, InvalidInput, NotFound, as_utc
from doorstep_shared.inputs import Offset, QueryText
from doorstep_shared.runtime import ConsistentRead, Runtime, RuntimeDep
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from grid_reports import handlers, views
from grid_reports.commands import (
    AssignCase,
    EndWithoutAgreement,
    GiveFeedback,
    HoldSession,
    MergeCase,
    OpenDispute,
    RecordAgreement,
    RecordVisit,
    RejectCase,
    ReportCase,
    ResolveCase,
)
from grid_reports.domain.rules import Policy
from grid_reports.handlers import actor_id

AreaCode = Annotated[str, Query(pattern=r"^\d{4,15}$", description="an area code (prefix of the tree)")]


async def clock_now(request: Request) -> datetime:
    """The service clock (injectable, so tests and demos can move time)."""
    runtime: Runtime = request.app.state.runtime
    return as_utc(runtime.extras["clock"]())


async def current_policy(request: Request) -> Policy:
    runtime: Runtime = request.app.state.runtime
    policy: Policy = runtime.extras["policy"]
    return policy


Now = Annotated[datetime, Depends(clock_now)]
PolicyDep = Annotated[Policy, Depends(current_policy)]

cases_router = APIRouter(prefix="/cases", tags=["cases"])
queries_router = APIRouter(tags=["queries"])
visits_router = APIRouter(prefix="/visits", tags=["visits"])
disputes_router = APIRouter(prefix="/disputes", tags=["disputes"])


def _staff(principal: Principal) -> None:
    principal.require_role(*handlers.HANDLING_ROLES)


async def _readable_case(runtime: Runtime, case_id: str, principal: Principal) -> dict[str, Any]:
    """Reporters see their own cases; staff see the cases of their areas."""
    async with runtime.db.session() as s:
        case = await views.get_case(s, case_id)
    if case is None:
        raise NotFound(f"case {case_id} not found", field="case_id")
    if principal.is_staff:
        if not (
            principal.can_act_in(case["grid_code"] or case["community_code"])
            or principal.can_act_in(case["escalated_to"])
        ):
            raise Forbidden(f"case {case_id} is outside your areas", field="case_id")
    elif case["reporter_id"] is None or case["reporter_id"] != actor_id(principal):
        raise Forbidden("reporters see their own cases only", field="case_id")
    return case


# cases ------------------------------------------------------------------------------------


@cases_router.post("", status_code=201, summary="Report a case")
async def report_case(
    body: ReportCase,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
    policy: PolicyDep,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.report_case(uow, body, principal, now, policy),
        principal=principal,
        request=request,
        payload=body.model_dump(mode="json"),
        status_code=201,
    )


@cases_router.get("", summary="List cases: staff see their areas, reporters their own")
async def list_cases(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _consistent: ConsistentRead,
    area: AreaCode | None = None,
    state: QueryText = None,
    kind: Annotated[str | None, Query(pattern="^(open|fixed|closed)$")] = None,
    category: QueryText = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    filters: dict[str, Any] = {
        "state": state,
        "kind": kind,
        "category": category,
        "limit": limit,
        "offset": offset,
    }
    if principal.is_staff:
        if area is not None:
            principal.require_area(area, field="area")
        filters["areas"] = [area] if area else list(principal.areas)
    else:
        filters["reporter_id"] = actor_id(principal)
    async with runtime.db.session() as s:
        return await views.list_cases(s, **filters)


@cases_router.get("/{case_id}", summary="One case")
async def get_case(
    case_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _consistent: ConsistentRead
) -> dict[str, Any]:
    return await _readable_case(runtime, case_id, principal)


@cases_router.get("/{case_id}/history", summary="A case's full history: its events in order")
async def case_history(
    case_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _consistent: ConsistentRead
) -> list[dict[str, Any]]:
    case = await _readable_case(runtime, case_id, principal)
    async with runtime.db.session() as s:
        return await views.history(s, runtime.store, case_id, erased=bool(case["erased"]))


def _case_command(path: str, summary: str) -> Any:
    return cases_router.post(f"/{{case_id}}/{path}", status_code=200, summary=summary)


@_case_command("accept", "Accept a reported case (file it)")
async def accept_case(
    case_id: str,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
    policy: PolicyDep,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.accept_case(uow, case_id, principal, now, policy),
        principal=principal,
        request=request,
        payload={"case_id": case_id},
        status_code=200,
    )


@_case_command("reject", "Reject a reported case, with the reason")
async def reject_case(
    case_id: str,
    body: RejectCase,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.reject_case(uow, case_id, body, principal, now),
        principal=principal,
        request=request,
        payload=body.model_dump(mode="json"),
        status_code=200,
    )


@_case_command("merge", "Merge a duplicate into an open case")
async def merge_case(
    case_id: str,
    body: MergeCase,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.merge_case(uow, case_id, body, principal, now),
        principal=principal,
        request=request,
        payload=body.model_dump(mode="json"),
        status_code=200,
    )


@_case_command("assign", "Dispatch a case to a grid worker")
async def assign_case(
    case_id: str,
    body: AssignCase,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
    policy: PolicyDep,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.assign_case(uow, case_id, body, principal, now, policy),
        principal=principal,
        request=request,
        payload=body.model_dump(mode="json"),
        status_code=200,
    )


@_case_command("start", "The assigned grid worker starts handling the case")
async def start_case(
    case_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request, now: Now
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.start_case(uow, case_id, principal, now),
        principal=principal,
        request=request,
        payload={"case_id": case_id},
        status_code=200,
    )


@_case_command("resolve", "The assigned grid worker reports the case handled")
async def resolve_case(
    case_id: str,
    body: ResolveCase,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
    policy: PolicyDep,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.resolve_case(uow, case_id, body, principal, now, policy),
        principal=principal,
        request=request,
        payload=body.model_dump(mode="json"),
        status_code=200,
    )


@_case_command("feedback", "The reporter's satisfaction: 3-5 closes the case, 1-2 reopens it")
async def give_feedback(
    case_id: str,
    body: GiveFeedback,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
    policy: PolicyDep,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.give_feedback(uow, case_id, body, principal, now, policy),
        principal=principal,
        request=request,
        payload=body.model_dump(mode="json"),
        status_code=200,
    )


@_case_command("close", "Verify and close a resolved case after the feedback window")
async def close_case(
    case_id: str,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
    policy: PolicyDep,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.close_case(uow, case_id, principal, now, policy),
        principal=principal,
        request=request,
        payload={"case_id": case_id},
        status_code=200,
    )


# queries -------------------------------------------------------------------------------------


@queries_router.get("/queue", summary="My queue: assigned, waiting in my grids, due soon, overdue")
async def my_queue(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _consistent: ConsistentRead,
    now: Now,
    request: Request,
) -> dict[str, Any]:
    _staff(principal)
    due_soon = timedelta(hours=getattr(runtime.settings, "due_soon_hours", 24))
    async with runtime.db.session() as s:
        return await views.queue(s, principal.subject, principal.areas, now, due_soon)


@queries_router.get("/communities/{community_code}/board", summary="A community's board by category and state")
async def community_board(
    community_code: str,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _consistent: ConsistentRead,
) -> dict[str, Any]:
    _staff(principal)
    if len(community_code) != 12 or not community_code.isdigit():
        raise InvalidInput("community code must be 12 digits", field="community_code")
    if not (principal.can_act_in(community_code) or any(a.startswith(community_code) for a in principal.areas)):
        raise Forbidden(f"community {community_code} is outside your areas", field="community_code")
    async with runtime.db.session() as s:
        return await views.board(s, community_code)


@queries_router.get("/areas/{area_code}/figures", summary="Per-area figures over a period (default: 30 days)")
async def area_figures(
    area_code: str,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _consistent: ConsistentRead,
    now: Now,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    principal.require_role(Role.COMMUNITY_STAFF, *ADMIN_ROLES)
    if not area_code.isdigit():
        raise InvalidInput("area code is digits", field="area_code")
    principal.require_area(area_code)
    end = as_utc(until) if until else now
    start = as_utc(since) if since else end - timedelta(days=30)
    if start >= end:
        raise InvalidInput("since must be before until", field="since")
    async with runtime.db.session() as s:
        return await views.figures(s, area_code, start, end)


# visits ----------------------------------------------------------------------------------------


@visits_router.post("", status_code=201, summary="Record a visit (敲门行动) with its findings")
async def record_visit(
    body: RecordVisit,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
    policy: PolicyDep,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.record_visit(uow, body, principal, now, policy),
        principal=principal,
        request=request,
        payload=body.model_dump(mode="json"),
        status_code=201,
    )


@visits_router.get("", summary="Visits in my areas (or one area), newest first")
async def list_visits(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _consistent: ConsistentRead,
    area: AreaCode | None = None,
    resident_id: QueryText = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    _staff(principal)
    if area is not None:
        principal.require_area(area, field="area")
    async with runtime.db.session() as s:
        return await views.list_visits(
            s,
            [area] if area else principal.areas,
            resident_id=resident_id,
            limit=limit,
            offset=offset,
        )


@visits_router.get("/overdue", summary="Key-population residents whose visit is overdue")
async def overdue_visits(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _consistent: ConsistentRead,
    now: Now,
    area: AreaCode | None = None,
) -> list[dict[str, Any]]:
    _staff(principal)
    if area is not None:
        principal.require_area(area, field="area")
    async with runtime.db.session() as s:
        return await views.overdue_visits(s, [area] if area else principal.areas, now)


# disputes --------------------------------------------------------------------------------------


@disputes_router.post("", status_code=201, summary="Open a dispute for mediation")
async def open_dispute(
    body: OpenDispute, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request, now: Now
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.open_dispute(uow, body, principal, now),
        principal=principal,
        request=request,
        payload=body.model_dump(mode="json"),
        status_code=201,
    )


@disputes_router.get("", summary="Disputes in my areas")
async def list_disputes(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _consistent: ConsistentRead,
    area: AreaCode | None = None,
    state: Annotated[str | None, Query(pattern="^(open|mediating|agreed|not_agreed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    _staff(principal)
    if area is not None:
        principal.require_area(area, field="area")
    async with runtime.db.session() as s:
        return await views.list_disputes(
            s, [area] if area else principal.areas, state=state, limit=limit, offset=offset
        )


@disputes_router.get("/{dispute_id}", summary="A dispute with its parties and mediation sessions")
async def get_dispute(
    dispute_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _consistent: ConsistentRead
) -> dict[str, Any]:
    _staff(principal)
    async with runtime.db.session() as s:
        dispute = await views.get_dispute(s, dispute_id)
    if dispute is None:
        raise NotFound(f"dispute {dispute_id} not found", field="dispute_id")
    principal.require_area(dispute["grid_code"] or dispute["community_code"], field="dispute_id")
    return dispute


@disputes_router.post("/{dispute_id}/sessions", status_code=201, summary="Record a mediation session")
async def hold_session(
    dispute_id: str,
    body: HoldSession,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.hold_session(uow, dispute_id, body, principal, now),
        principal=principal,
        request=request,
        payload=body.model_dump(mode="json"),
        status_code=201,
    )


@disputes_router.post("/{dispute_id}/agreement", status_code=200, summary="Record the agreement reached")
async def record_agreement(
    dispute_id: str,
    body: RecordAgreement,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.record_agreement(uow, dispute_id, body, principal, now),
        principal=principal,
        request=request,
        payload=body.model_dump(mode="json"),
        status_code=200,
    )


@disputes_router.post("/{dispute_id}/no-agreement", status_code=200, summary="End mediation without agreement")
async def end_without_agreement(
    dispute_id: str,
    body: EndWithoutAgreement,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.end_without_agreement(uow, dispute_id, body, principal, now),
        principal=principal,
        request=request,
        payload=body.model_dump(mode="json"),
        status_code=200,
    )
