"""Leads and totals: grid workers follow up residents who want a job; staff see per-area totals."""

from __future__ import annotations

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.commands import CommandAccepted, Dispatch
from doorstep_shared.inputs import AreaCodeQuery
from doorstep_shared.runtime import ConsistentRead
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from jobs.authz import STAFF, require_area_staff
from jobs.commands.leads import CloseLead
from jobs.deps import Deps
from jobs.domain.leads import LeadStatus
from jobs.views import leads, totals
from jobs.views.common import Row
from jobs.views.leads import LeadView
from jobs.views.totals import Totals

router = APIRouter(tags=["leads and totals"])


@router.get("/leads", response_model=list[LeadView], summary="Job-seeker leads in your grids")
async def list_leads(
    principal: CurrentPrincipal,
    deps: Deps,
    _c: ConsistentRead,
    status: LeadStatus | None = "open",
) -> list[Row]:
    principal.require_role(*STAFF)
    async with deps.db.session() as s:
        return await leads.leads(s, principal.areas, status)


@router.post("/leads/{lead_id}/close", response_model=CommandAccepted, summary="Close a lead with its outcome")
async def close_lead(lead_id: str, body: CloseLead, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(lead_id=lead_id), status_code=200)


@router.get(
    "/totals",
    response_model=Totals,
    summary="Per-area totals: postings, applications, hires, piecework pay, completions",
)
async def area_totals(
    principal: CurrentPrincipal, deps: Deps, _c: ConsistentRead, area: AreaCodeQuery | None = None
) -> Row:
    chosen = require_area_staff(principal, area)
    async with deps.db.session() as s:
        return await totals.totals(s, chosen)
