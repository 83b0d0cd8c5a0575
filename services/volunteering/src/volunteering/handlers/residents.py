"""What a resident's leaving (moving out, erasure) does to the teams and shifts they were on."""

from __future__ import annotations

from doorstep_shared.commands import Context
from doorstep_shared.domain import as_utc
from doorstep_shared.uow import CommandResult
from sqlalchemy import select

from volunteering import authz
from volunteering.commands import WithdrawResident
from volunteering.deps import VolunteeringDeps
from volunteering.domain.activities import SCHEDULED, WAITING, Activity
from volunteering.domain.teams import Team
from volunteering.handlers.registry import handlers, load
from volunteering.models import members_t as M
from volunteering.models import participations_t as P


@handlers.register
async def withdraw_resident(cmd: WithdrawResident, ctx: Context[VolunteeringDeps]) -> CommandResult:
    """A resident who left (or was erased) leaves every roster and upcoming shift.

    The ledger is not touched: hours served and points earned stay on record.
    Answers how many teams and activities changed; on redelivery that is 0.
    """
    authz.require_service_itself(ctx.actor)
    uow, resident_id, now = ctx.uow, cmd.resident_id, cmd.at or ctx.now
    teams = (
        await uow.session.execute(select(M.c.team_id).where(M.c.resident_id == resident_id, M.c.status == "active"))
    ).scalars()
    activities = (
        await uow.session.execute(
            select(P.c.activity_id).where(
                P.c.resident_id == resident_id,
                P.c.status.in_([WAITING, SCHEDULED]),
                P.c.starts_at > as_utc(now),
            )
        )
    ).scalars()
    changed = 0
    for team_id in sorted(set(teams)):
        team = await load(uow, Team, team_id, "team")
        if resident_id in team.members:
            team.remove(resident_id, reason=cmd.reason, removed_by=authz.SYSTEM)
            changed += 1
    for activity_id in sorted(set(activities)):
        activity = await load(uow, Activity, activity_id, "activity")
        changed += activity.withdraw_if_upcoming(resident_id, reason=cmd.reason, now=now)
    return CommandResult(id=resident_id, version=0, position=0, extra={"changed": changed})
