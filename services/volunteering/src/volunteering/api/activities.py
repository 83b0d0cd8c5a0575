"""Activities: sign-ups and the waiting list, the shift day, verification, capacity and
cancellation; upcoming activities and one activity with its roster."""

from __future__ import annotations

from typing import Annotated, Any

from doorstep_shared.auth import CurrentPrincipal, Role
from doorstep_shared.commands import CommandAccepted, Dispatch
from doorstep_shared.domain import NotFound
from doorstep_shared.runtime import ConsistentRead
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from volunteering import authz
from volunteering.api.params import AreaCode, Id
from volunteering.commands import (
    CancelActivity,
    CancelSignUp,
    ChangeCapacity,
    CheckIn,
    CheckOut,
    MarkNoShow,
    SignUp,
    VerifyHours,
)
from volunteering.deps import Deps
from volunteering.schemas import ActivityDetail, ActivityView, HoursVerifiedAccepted, SignUpAccepted
from volunteering.views import activities as views
from volunteering.views.common import area_to_read
from volunteering.views.teams import team

activities_router = APIRouter(prefix="/activities", tags=["activities"])
SIGNUP = "/{activity_id}/signups/{resident_id}"


@activities_router.get(
    "/upcoming", response_model=list[ActivityView], summary="Upcoming activities (with free places) in an area"
)
async def upcoming(
    principal: CurrentPrincipal,
    deps: Deps,
    _: ConsistentRead,
    area_code: AreaCode | None = None,
    skill: Annotated[str | None, Query(max_length=60)] = None,
    free_only: bool = True,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    async with deps.db.session() as s:
        area = await area_to_read(s, principal, area_code)
        return await views.upcoming(s, area, deps.now(), skill=skill, free_only=free_only, limit=limit)


@activities_router.get(
    "/{activity_id}",
    response_model=ActivityDetail,
    response_model_exclude_unset=True,  # the roster, or one's own place, only for those who see it
    summary="An activity; its roster for staff and leaders",
)
async def get_activity(activity_id: Id, principal: CurrentPrincipal, deps: Deps, _: ConsistentRead) -> dict[str, Any]:
    async with deps.db.session() as s:
        found = await views.activity(s, activity_id)
        if found is None:
            raise NotFound(f"activity {activity_id} not found", field="activity_id")
        its_team = await team(s, found["team_id"])
        leads = its_team is not None and its_team["leader_id"] == principal.subject
        if authz.sees_roster(principal, leads=leads, community_code=found["community_code"]):
            return {**found, **await views.participants(s, activity_id)}
        if principal.role == Role.RESIDENT:
            mine = await views.participation(s, activity_id, authz.own_resident_id(principal))
            return {**found, "my_participation": mine}
        return found


@activities_router.post("/{activity_id}/signups", status_code=201, response_model=SignUpAccepted, summary="Sign up")
async def sign_up(activity_id: Id, body: SignUp, dispatch: Dispatch) -> JSONResponse:
    """A place if one is free, else the end of the waiting list (`status` in the answer)."""
    return await dispatch(body.targeting(activity_id=activity_id), status_code=201)


@activities_router.delete(SIGNUP, response_model=CommandAccepted, summary="Cancel a sign-up (volunteer or leader)")
async def cancel_sign_up(activity_id: Id, resident_id: Id, dispatch: Dispatch) -> JSONResponse:
    cmd = CancelSignUp(activity_id=activity_id, resident_id=resident_id)
    return await dispatch(cmd, status_code=200)


@activities_router.post(f"{SIGNUP}/check-in", response_model=CommandAccepted, summary="Check a volunteer in")
async def check_in(activity_id: Id, resident_id: Id, dispatch: Dispatch) -> JSONResponse:
    cmd = CheckIn(activity_id=activity_id, resident_id=resident_id)
    return await dispatch(cmd, status_code=200)


@activities_router.post(f"{SIGNUP}/check-out", response_model=CommandAccepted, summary="Check a volunteer out")
async def check_out(activity_id: Id, resident_id: Id, dispatch: Dispatch) -> JSONResponse:
    cmd = CheckOut(activity_id=activity_id, resident_id=resident_id)
    return await dispatch(cmd, status_code=200)


@activities_router.post(f"{SIGNUP}/no-show", response_model=CommandAccepted, summary="Mark a no-show")
async def mark_no_show(activity_id: Id, resident_id: Id, dispatch: Dispatch) -> JSONResponse:
    cmd = MarkNoShow(activity_id=activity_id, resident_id=resident_id)
    return await dispatch(cmd, status_code=200)


@activities_router.post(
    f"{SIGNUP}/verify", response_model=HoursVerifiedAccepted, summary="Verify hours (team leader only)"
)
async def verify_hours(activity_id: Id, resident_id: Id, body: VerifyHours, dispatch: Dispatch) -> JSONResponse:
    cmd = body.targeting(activity_id=activity_id, resident_id=resident_id)
    return await dispatch(cmd, status_code=200)


@activities_router.put("/{activity_id}/capacity", response_model=CommandAccepted, summary="Change the capacity")
async def change_capacity(activity_id: Id, body: ChangeCapacity, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(activity_id=activity_id), status_code=200)


@activities_router.post("/{activity_id}/cancel", response_model=CommandAccepted, summary="Cancel the activity")
async def cancel_activity(activity_id: Id, body: CancelActivity, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(activity_id=activity_id), status_code=200)
