"""Activities: scheduled by a team's leader, signed up for, run on the day, verified.

Verifying hours books them in the volunteer's ledger in the same transaction.
"""

from __future__ import annotations

from doorstep_shared.auth import Role
from doorstep_shared.commands import Context
from doorstep_shared.domain import Conflict, as_utc, new_id
from doorstep_shared.uow import CommandResult, UnitOfWork
from sqlalchemy import select

from volunteering import authz
from volunteering.commands import (
    CancelActivity,
    CancelSignUp,
    ChangeCapacity,
    CheckIn,
    CheckOut,
    MarkNoShow,
    ScheduleActivity,
    SignUp,
    VerifyHours,
)
from volunteering.deps import VolunteeringDeps
from volunteering.domain.activities import CHECKED_IN, SCHEDULED, WAITING, Activity
from volunteering.domain.teams import Team
from volunteering.handlers.registry import activity_and_team, handlers, ledger_of, load, require_active_resident
from volunteering.models import participations_t as P


@handlers.register
async def schedule_activity(cmd: ScheduleActivity, ctx: Context[VolunteeringDeps]) -> CommandResult:
    team = await load(ctx.uow, Team, cmd.team_id, "team")
    authz.require_leader_or_manager(ctx.user, team)
    activity = Activity.schedule(
        new_id(),
        team_id=team.id,
        community_code=team.community_code,
        title=cmd.title,
        place=cmd.place,
        starts_at=cmd.starts_at,
        ends_at=cmd.ends_at,
        capacity=cmd.capacity,
        skills_wanted=tuple(cmd.skills_wanted),
        description=cmd.description,
        now=ctx.now,
    )
    ctx.uow.add(activity)
    return ctx.uow.result(activity)


@handlers.register
async def change_capacity(cmd: ChangeCapacity, ctx: Context[VolunteeringDeps]) -> CommandResult:
    activity, team = await activity_and_team(ctx.uow, cmd.activity_id)
    authz.require_leader_or_manager(ctx.user, team)
    activity.change_capacity(cmd.capacity, now=ctx.now)
    return ctx.uow.result(activity)


@handlers.register
async def cancel_activity(cmd: CancelActivity, ctx: Context[VolunteeringDeps]) -> CommandResult:
    activity, team = await activity_and_team(ctx.uow, cmd.activity_id)
    authz.require_leader_or_manager(ctx.user, team)
    activity.cancel(reason=cmd.reason, by=ctx.user.subject, now=ctx.now)
    return ctx.uow.result(activity)


@handlers.register
async def sign_up(cmd: SignUp, ctx: Context[VolunteeringDeps]) -> CommandResult:
    """A place if one is free, else the end of the waiting list (`status` in the answer)."""
    activity, team = await activity_and_team(ctx.uow, cmd.activity_id)
    resident_id = authz.volunteer_for(ctx.user, cmd.resident_id, team)
    await require_active_resident(ctx.uow, resident_id)
    await _require_no_overlap(ctx.uow, activity, resident_id)
    status = activity.sign_up(resident_id, by=ctx.user.subject, now=ctx.now)
    return ctx.uow.result(activity, status=status, resident_id=resident_id)


async def _require_no_overlap(uow: UnitOfWork, activity: Activity, resident_id: str) -> None:
    stmt = (
        select(P.c.activity_id)
        .where(
            P.c.resident_id == resident_id,
            P.c.activity_id != activity.id,
            P.c.status.in_([WAITING, SCHEDULED, CHECKED_IN]),
            P.c.starts_at < as_utc(activity.ends_at),
            P.c.ends_at > as_utc(activity.starts_at),
        )
        .limit(1)
    )
    clash = (await uow.session.execute(stmt)).scalar()
    if clash is not None:
        raise Conflict(f"this overlaps the volunteer's sign-up for activity {clash}", field="activity_id")


@handlers.register
async def cancel_sign_up(cmd: CancelSignUp, ctx: Context[VolunteeringDeps]) -> CommandResult:
    principal = ctx.user
    activity, team = await activity_and_team(ctx.uow, cmd.activity_id)
    if principal.role == Role.RESIDENT:
        authz.require_self(principal, cmd.resident_id)
        reason = "volunteer"
    else:
        authz.require_leader_or_manager(principal, team)
        reason = "leader"
    activity.cancel_sign_up(cmd.resident_id, reason=reason, by=principal.subject, now=ctx.now)
    return ctx.uow.result(activity)


@handlers.register
async def check_in(cmd: CheckIn, ctx: Context[VolunteeringDeps]) -> CommandResult:
    activity, team = await activity_and_team(ctx.uow, cmd.activity_id)
    authz.require_leader_or_manager(ctx.user, team)
    activity.check_in(cmd.resident_id, by=ctx.user.subject, now=ctx.now)
    return ctx.uow.result(activity)


@handlers.register
async def check_out(cmd: CheckOut, ctx: Context[VolunteeringDeps]) -> CommandResult:
    activity, team = await activity_and_team(ctx.uow, cmd.activity_id)
    authz.require_leader_or_manager(ctx.user, team)
    activity.check_out(cmd.resident_id, by=ctx.user.subject, now=ctx.now)
    return ctx.uow.result(activity)


@handlers.register
async def mark_no_show(cmd: MarkNoShow, ctx: Context[VolunteeringDeps]) -> CommandResult:
    activity, team = await activity_and_team(ctx.uow, cmd.activity_id)
    authz.require_leader_or_manager(ctx.user, team)
    activity.mark_no_show(cmd.resident_id, by=ctx.user.subject, now=ctx.now)
    return ctx.uow.result(activity)


@handlers.register
async def verify_hours(cmd: VerifyHours, ctx: Context[VolunteeringDeps]) -> CommandResult:
    """The leader confirms the minutes; the same transaction books them in the ledger."""
    principal = ctx.user
    activity, team = await activity_and_team(ctx.uow, cmd.activity_id)
    minutes = activity.verify(
        cmd.resident_id,
        verifier_id=principal.subject,
        verifier_resident_id=principal.resident_id,
        verifier_is_leader=team.is_leader(principal.subject),
        minutes=cmd.minutes,
        now=ctx.now,
    )
    ledger = await ledger_of(ctx.uow, cmd.resident_id)
    ledger.record_hours(
        entry_id=new_id(),
        activity_id=activity.id,
        team_id=team.id,
        community_code=activity.community_code,
        minutes=minutes,
        verified_by=principal.subject,
        points_per_hour=ctx.deps.points_per_hour,
        now=ctx.now,
    )
    return ctx.uow.result(activity, verified_minutes=minutes, balance=ledger.balance)
