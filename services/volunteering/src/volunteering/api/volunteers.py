"""Volunteers: a volunteer's history, hours and balance, the ledger statement, redemptions."""

from __future__ import annotations

from typing import Any

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.commands import Dispatch
from doorstep_shared.runtime import ConsistentRead
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from volunteering.api.params import Id
from volunteering.commands import Redeem
from volunteering.deps import Deps
from volunteering.schemas import RedemptionAccepted, Statement, VolunteerProfile
from volunteering.views import volunteers as views
from volunteering.views.common import require_volunteer_reader

volunteers_router = APIRouter(prefix="/volunteers", tags=["volunteers and ledger"])


@volunteers_router.get(
    "/{resident_id}", response_model=VolunteerProfile, summary="A volunteer's history, hours and balance"
)
async def volunteer(resident_id: Id, principal: CurrentPrincipal, deps: Deps, _: ConsistentRead) -> dict[str, Any]:
    async with deps.db.session() as s:
        await require_volunteer_reader(s, principal, resident_id)
        return {
            **await views.totals(s, resident_id),
            "giving_back": await views.giving_back(s, resident_id),
            "history": await views.history(s, resident_id),
        }


@volunteers_router.get(
    "/{resident_id}/ledger", response_model=Statement, summary="The ledger: every entry and the balance"
)
async def ledger(resident_id: Id, principal: CurrentPrincipal, deps: Deps, _: ConsistentRead) -> dict[str, Any]:
    async with deps.db.session() as s:
        await require_volunteer_reader(s, principal, resident_id)
        return await views.statement(s, resident_id)


@volunteers_router.post(
    "/{resident_id}/redemptions",
    status_code=201,
    response_model=RedemptionAccepted,
    summary="Redeem points (merchant partner or time bank)",
)
async def redeem(resident_id: Id, body: Redeem, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(resident_id=resident_id), status_code=201)
