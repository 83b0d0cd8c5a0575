"""HTTP API: commands answer `{id, version, position}`; queries read the read models.

Pass `?after=<position>` to a query to read your own write. Send an
`Idempotency-Key` header to make a command safe to retry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal, cast

from doorstep_shared.auth import STAFF_ROLES, CurrentPrincipal, Principal, Role
from doorstep_shared.domain import Forbidden, InvalidInput, NotFound, utcnow
from doorstep_shared.runtime import ConsistentRead, Runtime, RuntimeDep
from doorstep_shared.uow import CommandResult, UnitOfWork
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import AwareDatetime
from sqlalchemy.ext.asyncio import AsyncSession

from volunteering import certificate, handlers, views
from volunteering import commands as c
from volunteering.settings import Settings

teams_router = APIRouter(prefix="/teams", tags=["teams"])
activities_router = APIRouter(prefix="/activities", tags=["activities"])
volunteers_router = APIRouter(prefix="/volunteers", tags=["volunteers and ledger"])
figures_router = APIRouter(tags=["figures"])

Id = Annotated[str, Path(min_length=1, max_length=64)]
AreaCode = Annotated[str, Query(pattern=c.AREA_CODE)]
Since = Annotated[AwareDatetime | None, Query(alias="from")]
Until = Annotated[AwareDatetime | None, Query(alias="to")]
# staff who may read rosters and records in their areas (residents see their own)
READER_ROLES = frozenset(STAFF_ROLES | {Role.TEAM_LEADER})


async def clock(request: Request) -> datetime:
    """The current time; tests replace `runtime.extras["clock"]` to move it."""
    now: Callable[[], datetime] = request.app.state.runtime.extras.get("clock", utcnow)
    return now()


Now = Annotated[datetime, Depends(clock)]


async def _command(
    runtime: Runtime,
    request: Request,
    principal: Principal,
    body: Any,
    handler: Callable[[UnitOfWork], Awaitable[CommandResult]],
    status_code: int = 200,
) -> JSONResponse:
    settings = cast(Settings, runtime.settings)
    return await runtime.command(
        handler,
        principal=principal,
        request=request,
        payload=body.model_dump(mode="json") if body is not None else None,
        status_code=status_code,
        retries=settings.command_retries,
    )


def _points_per_hour(runtime: Runtime) -> int:
    return cast(Settings, runtime.settings).points_per_hour


def _require_reader(principal: Principal, area_code: str | None) -> None:
    if principal.role not in READER_ROLES:
        raise Forbidden("this view is for staff and team leaders")
    principal.require_area(area_code)


async def _require_volunteer_reader(session: AsyncSession, principal: Principal, resident_id: str) -> None:
    """A volunteer reads their own record; staff read records of their areas."""
    if principal.role == Role.RESIDENT and handlers.own_resident_id(principal) == resident_id:
        return
    home = await views.home_community(session, resident_id)
    if home is None:
        raise NotFound(f"volunteer {resident_id} not found", field="resident_id")
    _require_reader(principal, home)


async def _default_area(session: AsyncSession, principal: Principal, given: str | None) -> str:
    """Residents default to their own community, staff to their first area."""
    if given:
        return given
    if principal.role == Role.RESIDENT:
        home = await views.home_community(session, handlers.own_resident_id(principal))
        if home:
            return home
    if principal.areas:
        return principal.areas[0]
    raise InvalidInput("name the area", field="area_code")


# teams ------------------------------------------------------------------------------------------


@teams_router.post("", status_code=201, summary="Form a team (community staff)")
async def form_team(
    body: c.FormTeam,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
) -> JSONResponse:
    return await _command(
        runtime,
        request,
        principal,
        body,
        lambda uow: handlers.form_team(uow, body, principal, now),
        201,
    )


@teams_router.get("", summary="Teams in an area")
async def list_teams(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _: ConsistentRead,
    area_code: AreaCode | None = None,
    focus: c.Focus | None = None,
) -> list[dict[str, Any]]:
    async with runtime.db.session() as s:
        area = await _default_area(s, principal, area_code)
        return await views.teams(s, area, focus)


@teams_router.get("/{team_id}", summary="A team with its roster and hours")
async def get_team(team_id: Id, principal: CurrentPrincipal, runtime: RuntimeDep, _: ConsistentRead) -> dict[str, Any]:
    async with runtime.db.session() as s:
        team = await views.team(s, team_id)
        if team is None:
            raise NotFound(f"team {team_id} not found", field="team_id")
        if principal.subject != team["leader_id"]:
            _require_reader(principal, team["community_code"])
        return {**team, **await views.roster(s, team_id)}


@teams_router.put("/{team_id}/leader", summary="Hand the team to another team leader")
async def change_leader(
    team_id: Id,
    body: c.ChangeLeader,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> JSONResponse:
    return await _command(
        runtime,
        request,
        principal,
        body,
        lambda uow: handlers.change_leader(uow, team_id, body, principal),
    )


@teams_router.post("/{team_id}/members", status_code=201, summary="Join, or add a member")
async def join_team(
    team_id: Id,
    body: c.JoinTeam,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> JSONResponse:
    return await _command(
        runtime,
        request,
        principal,
        body,
        lambda uow: handlers.join_team(uow, team_id, body, principal),
        201,
    )


@teams_router.delete("/{team_id}/members/{resident_id}", summary="Leave (the member) or remove (leader, staff)")
async def leave_team(
    team_id: Id,
    resident_id: Id,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    reason: Annotated[str | None, Query(max_length=500)] = None,
) -> JSONResponse:
    return await _command(
        runtime,
        request,
        principal,
        None,
        lambda uow: handlers.leave_team(uow, team_id, resident_id, reason, principal),
    )


@teams_router.post("/{team_id}/activities", status_code=201, summary="Schedule an activity")
async def schedule_activity(
    team_id: Id,
    body: c.ScheduleActivity,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
) -> JSONResponse:
    return await _command(
        runtime,
        request,
        principal,
        body,
        lambda uow: handlers.schedule_activity(uow, team_id, body, principal, now),
        201,
    )


# activities -------------------------------------------------------------------------------------


@activities_router.get("/upcoming", summary="Upcoming activities (with free places) in an area")
async def upcoming(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    _: ConsistentRead,
    area_code: AreaCode | None = None,
    skill: Annotated[str | None, Query(max_length=60)] = None,
    free_only: bool = True,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    async with runtime.db.session() as s:
        area = await _default_area(s, principal, area_code)
        return await views.upcoming(s, area, now, skill=skill, free_only=free_only, limit=limit)


@activities_router.get("/{activity_id}", summary="An activity; its roster for staff and leaders")
async def get_activity(
    activity_id: Id, principal: CurrentPrincipal, runtime: RuntimeDep, _: ConsistentRead
) -> dict[str, Any]:
    async with runtime.db.session() as s:
        found = await views.activity(s, activity_id)
        if found is None:
            raise NotFound(f"activity {activity_id} not found", field="activity_id")
        team = await views.team(s, found["team_id"])
        leads = team is not None and team["leader_id"] == principal.subject
        if leads or (principal.role in READER_ROLES and principal.can_act_in(found["community_code"])):
            return {**found, **await views.participants(s, activity_id)}
        if principal.role == Role.RESIDENT:
            mine = await views.participation(s, activity_id, handlers.own_resident_id(principal))
            return {**found, "my_participation": mine}
        return found


def _participation_route(
    path: str,
    summary: str,
    act: Callable[[UnitOfWork, str, str, Principal, datetime], Awaitable[CommandResult]],
) -> None:
    async def endpoint(
        activity_id: Id,
        resident_id: Id,
        principal: CurrentPrincipal,
        runtime: RuntimeDep,
        request: Request,
        now: Now,
    ) -> JSONResponse:
        return await _command(
            runtime,
            request,
            principal,
            None,
            lambda uow: act(uow, activity_id, resident_id, principal, now),
        )

    endpoint.__name__ = act.__name__
    activities_router.add_api_route(
        f"/{{activity_id}}/signups/{{resident_id}}{path}",
        endpoint,
        methods=["DELETE" if not path else "POST"],
        summary=summary,
    )


@activities_router.post("/{activity_id}/signups", status_code=201, summary="Sign up")
async def sign_up(
    activity_id: Id,
    body: c.SignUp,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
) -> JSONResponse:
    """A place if one is free, else the end of the waiting list (`status` in the answer)."""
    return await _command(
        runtime,
        request,
        principal,
        body,
        lambda uow: handlers.sign_up(uow, activity_id, body, principal, now),
        201,
    )


_participation_route("", "Cancel a sign-up (volunteer or leader)", handlers.cancel_sign_up)
_participation_route("/check-in", "Check a volunteer in", handlers.check_in)
_participation_route("/check-out", "Check a volunteer out", handlers.check_out)
_participation_route("/no-show", "Mark a no-show", handlers.mark_no_show)


@activities_router.post("/{activity_id}/signups/{resident_id}/verify", summary="Verify hours (team leader only)")
async def verify_hours(
    activity_id: Id,
    resident_id: Id,
    body: c.VerifyHours,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
) -> JSONResponse:
    rate = _points_per_hour(runtime)
    return await _command(
        runtime,
        request,
        principal,
        body,
        lambda uow: handlers.verify_hours(uow, activity_id, resident_id, body, principal, now, points_per_hour=rate),
    )


@activities_router.put("/{activity_id}/capacity", summary="Change the capacity")
async def change_capacity(
    activity_id: Id,
    body: c.ChangeCapacity,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
) -> JSONResponse:
    return await _command(
        runtime,
        request,
        principal,
        body,
        lambda uow: handlers.change_capacity(uow, activity_id, body, principal, now),
    )


@activities_router.post("/{activity_id}/cancel", summary="Cancel the activity")
async def cancel_activity(
    activity_id: Id,
    body: c.CancelActivity,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
) -> JSONResponse:
    return await _command(
        runtime,
        request,
        principal,
        body,
        lambda uow: handlers.cancel_activity(uow, activity_id, body, principal, now),
    )


# volunteers and ledger --------------------------------------------------------------------------


@volunteers_router.get("/{resident_id}", summary="A volunteer's history, hours and balance")
async def volunteer(
    resident_id: Id, principal: CurrentPrincipal, runtime: RuntimeDep, _: ConsistentRead
) -> dict[str, Any]:
    async with runtime.db.session() as s:
        await _require_volunteer_reader(s, principal, resident_id)
        return {
            **await views.totals(s, resident_id),
            "giving_back": await views.giving_back(s, resident_id),
            "history": await views.history(s, resident_id),
        }


@volunteers_router.get("/{resident_id}/ledger", summary="The ledger: every entry and the balance")
async def ledger(
    resident_id: Id, principal: CurrentPrincipal, runtime: RuntimeDep, _: ConsistentRead
) -> dict[str, Any]:
    async with runtime.db.session() as s:
        await _require_volunteer_reader(s, principal, resident_id)
        return await views.statement(s, resident_id)


@volunteers_router.post(
    "/{resident_id}/redemptions",
    status_code=201,
    summary="Redeem points (merchant partner or time bank)",
)
async def redeem(
    resident_id: Id,
    body: c.Redeem,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    now: Now,
) -> JSONResponse:
    return await _command(
        runtime,
        request,
        principal,
        body,
        lambda uow: handlers.redeem(uow, resident_id, body, principal, now),
        201,
    )


async def _certificate(
    runtime: Runtime,
    principal: Principal,
    resident_id: str,
    now: datetime,
    since: datetime | None,
    until: datetime | None,
) -> dict[str, Any]:
    async with runtime.db.session() as s:
        await _require_volunteer_reader(s, principal, resident_id)
        records = await views.certificate_records(s, resident_id, since, until)
    return certificate.build(resident_id, records, issued_at=now, since=since, until=until)


@volunteers_router.get("/{resident_id}/certificate", summary="Volunteer service record (JSON)")
async def certificate_json(
    resident_id: Id,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    _: ConsistentRead,
    since: Since = None,
    until: Until = None,
) -> dict[str, Any]:
    return await _certificate(runtime, principal, resident_id, now, since, until)


@volunteers_router.get(
    "/{resident_id}/certificate.html",
    response_class=HTMLResponse,
    summary="Volunteer service record (printable)",
)
async def certificate_html(
    resident_id: Id,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    _: ConsistentRead,
    since: Since = None,
    until: Until = None,
) -> HTMLResponse:
    cert = await _certificate(runtime, principal, resident_id, now, since, until)
    return HTMLResponse(certificate.render_html(cert))


# leaderboards and figures -----------------------------------------------------------------------


@figures_router.get("/leaderboard", summary="Top volunteers of an area by hours or points")
async def leaderboard(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _: ConsistentRead,
    area_code: AreaCode | None = None,
    by: Literal["hours", "points"] = "hours",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict[str, Any]]:
    async with runtime.db.session() as s:
        area = await _default_area(s, principal, area_code)
        return await views.leaderboard(s, area, by, limit)


@figures_router.get("/areas/{area_code}/figures", summary="Volunteering figures of an area")
async def figures(
    area_code: Annotated[str, Path(pattern=c.AREA_CODE)],
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _: ConsistentRead,
    since: Since = None,
    until: Until = None,
) -> dict[str, Any]:
    _require_reader(principal, area_code)
    async with runtime.db.session() as s:
        return await views.figures(s, area_code, since, until)


routers = [teams_router, activities_router, volunteers_router, figures_router]
