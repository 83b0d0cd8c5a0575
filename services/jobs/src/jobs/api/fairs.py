"""Job fairs: organisers schedule them, employers take part, residents sign up."""

from __future__ import annotations

from datetime import date

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.commands import CommandAccepted, Dispatch
from doorstep_shared.inputs import AreaCodeQuery, QueryText
from doorstep_shared.runtime import ConsistentRead
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from jobs.authz import sees_fair_signups
from jobs.commands.fairs import CancelFair, JoinFair, ScheduleFair, ScheduleFairSeries, SeriesScheduled, SignUpForFair
from jobs.deps import Deps
from jobs.views import fairs
from jobs.views.common import Row, found
from jobs.views.fairs import FairDetail, FairView

router = APIRouter(tags=["fairs"])


@router.post("/fairs", status_code=201, response_model=CommandAccepted, summary="Schedule a one-off fair")
async def schedule_fair(body: ScheduleFair, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body, status_code=201)


@router.post(
    "/fairs/series",
    status_code=201,
    response_model=SeriesScheduled,
    summary="Schedule recurring fairs from a recurrence rule",
)
async def schedule_series(body: ScheduleFairSeries, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body, status_code=201)


@router.post("/fairs/{fair_id}/employers", response_model=CommandAccepted, summary="An employer takes part in a fair")
async def join_fair(fair_id: str, body: JoinFair, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(fair_id=fair_id), status_code=200)


@router.post("/fairs/{fair_id}/signups", response_model=CommandAccepted, summary="A resident signs up for a fair")
async def sign_up(fair_id: str, body: SignUpForFair, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(fair_id=fair_id), status_code=200)


@router.post("/fairs/{fair_id}/cancel", response_model=CommandAccepted, summary="Cancel an upcoming fair")
async def cancel_fair(fair_id: str, body: CancelFair, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(fair_id=fair_id), status_code=200)


@router.get("/fairs", response_model=list[FairView], summary="Fairs in an area and date range")
async def list_fairs(
    principal: CurrentPrincipal,
    deps: Deps,
    _c: ConsistentRead,
    area: AreaCodeQuery | None = None,
    date_from: date | None = Query(None, alias="from"),
    date_to: date | None = Query(None, alias="to"),
    series_id: QueryText = None,
) -> list[Row]:
    async with deps.db.session() as s:
        return await fairs.fairs(
            s,
            area=area,
            date_from=date_from.isoformat() if date_from else None,
            date_to=date_to.isoformat() if date_to else None,
            series_id=series_id,
        )


@router.get(
    "/fairs/{fair_id}",
    response_model=FairDetail,
    response_model_exclude_unset=True,
    summary="A fair with its employers, sign-ups (staff) and hires",
)
async def get_fair(fair_id: str, principal: CurrentPrincipal, deps: Deps, _c: ConsistentRead) -> Row:
    async with deps.db.session() as s:
        row = found(await fairs.fair(s, fair_id), "fair", "fair_id")
    if not sees_fair_signups(principal, row["community_code"]):
        row.pop("signup_list")
    return row
