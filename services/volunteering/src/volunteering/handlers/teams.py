"""Teams: formed and handed over by community staff, joined and left by residents."""

from __future__ import annotations

from doorstep_shared.areas import within
from doorstep_shared.auth import Role
from doorstep_shared.commands import Context
from doorstep_shared.domain import InvalidInput, new_id
from doorstep_shared.uow import CommandResult, UnitOfWork

from volunteering import authz
from volunteering.commands import ChangeLeader, FormTeam, JoinTeam, LeaveTeam
from volunteering.deps import VolunteeringDeps
from volunteering.domain.teams import Team
from volunteering.handlers.registry import handlers, load, require_active_resident
from volunteering.models import Staff


async def _require_team_leader(uow: UnitOfWork, staff_id: str, community_code: str) -> None:
    staff = await uow.session.get(Staff, staff_id)
    if staff is None or staff.role != Role.TEAM_LEADER:
        raise InvalidInput(f"{staff_id} is not a team leader", field="leader_id")
    if not any(within(community_code, area) for area in staff.areas):
        raise InvalidInput(f"team leader {staff_id} does not serve community {community_code}", field="leader_id")


@handlers.register
async def form_team(cmd: FormTeam, ctx: Context[VolunteeringDeps]) -> CommandResult:
    authz.require_manager(ctx.user, cmd.community_code)
    await _require_team_leader(ctx.uow, cmd.leader_id, cmd.community_code)
    team = Team.form(
        new_id(),
        name=cmd.name,
        community_code=cmd.community_code,
        focus=cmd.focus,
        leader_id=cmd.leader_id,
        description=cmd.description,
    )
    ctx.uow.add(team)
    return ctx.uow.result(team)


@handlers.register
async def change_leader(cmd: ChangeLeader, ctx: Context[VolunteeringDeps]) -> CommandResult:
    team = await load(ctx.uow, Team, cmd.team_id, "team")
    authz.require_manager(ctx.user, team.community_code)
    await _require_team_leader(ctx.uow, cmd.leader_id, team.community_code)
    team.change_leader(cmd.leader_id)
    return ctx.uow.result(team)


@handlers.register
async def join_team(cmd: JoinTeam, ctx: Context[VolunteeringDeps]) -> CommandResult:
    team = await load(ctx.uow, Team, cmd.team_id, "team")
    resident_id = authz.volunteer_for(ctx.user, cmd.resident_id, team)
    await require_active_resident(ctx.uow, resident_id)
    team.join(resident_id, added_by=ctx.user.subject)
    return ctx.uow.result(team)


@handlers.register
async def leave_team(cmd: LeaveTeam, ctx: Context[VolunteeringDeps]) -> CommandResult:
    """A member leaves of their own accord; a leader or staff member removes one."""
    principal = ctx.user
    team = await load(ctx.uow, Team, cmd.team_id, "team")
    if principal.role == Role.RESIDENT:
        authz.require_self(principal, cmd.resident_id)
        team.leave(cmd.resident_id)
    else:
        authz.require_leader_or_manager(principal, team)
        team.remove(cmd.resident_id, reason=cmd.reason or "removed by the team", removed_by=principal.subject)
    return ctx.uow.result(team)
