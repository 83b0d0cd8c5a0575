"""Teams: form one, hand it over, join and leave it, schedule its activities; read them."""

from __future__ import annotations

from typing import Annotated, Any

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.commands import CommandAccepted, Dispatch
from doorstep_shared.domain import NotFound
from doorstep_shared.runtime import ConsistentRead
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from volunteering import authz
from volunteering.api.params import AreaCode, Id
from volunteering.commands import ChangeLeader, FormTeam, JoinTeam, LeaveTeam, ScheduleActivity
from volunteering.deps import Deps
from volunteering.domain.teams import Focus
from volunteering.schemas import TeamDetail, TeamView
from volunteering.views.common import area_to_read
from volunteering.views.teams import roster, team, teams

teams_router = APIRouter(prefix="/teams", tags=["teams"])


@teams_router.post("", status_code=201, response_model=CommandAccepted, summary="Form a team (community staff)")
async def form_team(body: FormTeam, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body, status_code=201)


@teams_router.get("", response_model=list[TeamView], summary="Teams in an area")
async def list_teams(
    principal: CurrentPrincipal,
    deps: Deps,
    _: ConsistentRead,
    area_code: AreaCode | None = None,
    focus: Focus | None = None,
) -> list[dict[str, Any]]:
    async with deps.db.session() as s:
        return await teams(s, await area_to_read(s, principal, area_code), focus)


@teams_router.get("/{team_id}", response_model=TeamDetail, summary="A team with its roster and hours")
async def get_team(team_id: Id, principal: CurrentPrincipal, deps: Deps, _: ConsistentRead) -> dict[str, Any]:
    async with deps.db.session() as s:
        found = await team(s, team_id)
        if found is None:
            raise NotFound(f"team {team_id} not found", field="team_id")
        authz.require_team_reader(principal, found["leader_id"], found["community_code"])
        return {**found, **await roster(s, team_id)}


@teams_router.put("/{team_id}/leader", response_model=CommandAccepted, summary="Hand the team to another team leader")
async def change_leader(team_id: Id, body: ChangeLeader, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(team_id=team_id), status_code=200)


@teams_router.post(
    "/{team_id}/members", status_code=201, response_model=CommandAccepted, summary="Join, or add a member"
)
async def join_team(team_id: Id, body: JoinTeam, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(team_id=team_id), status_code=201)


@teams_router.delete(
    "/{team_id}/members/{resident_id}",
    response_model=CommandAccepted,
    summary="Leave (the member) or remove (leader, staff)",
)
async def leave_team(
    team_id: Id,
    resident_id: Id,
    dispatch: Dispatch,
    reason: Annotated[str | None, Query(max_length=500)] = None,
) -> JSONResponse:
    cmd = LeaveTeam(team_id=team_id, resident_id=resident_id, reason=reason)
    return await dispatch(cmd, status_code=200)


@teams_router.post(
    "/{team_id}/activities", status_code=201, response_model=CommandAccepted, summary="Schedule an activity"
)
async def schedule_activity(team_id: Id, body: ScheduleActivity, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(team_id=team_id), status_code=201)
