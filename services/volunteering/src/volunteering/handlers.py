"""Command handlers: load aggregates, check who may act, decide, record.

Each runs inside one unit of work (one transaction). Rules that span
aggregates or need other services' facts (is this a registered resident, is
this staff member a team leader, does this shift overlap another of the
volunteer's) are checked against the read models in the same transaction.

Hot aggregates: a sign-up storm sends hundreds of commands at one activity at
once. On PostgreSQL each handler first takes a transaction-scoped advisory lock
on the stream it is about to change, so those commands queue instead of
failing their optimistic-concurrency check; the version check stays as the
last line of defence (and the API retries a lost race from a fresh load).
SQLite already serialises writers.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from doorstep_shared.auth import ADMIN_ROLES, Principal, Role
from doorstep_shared.domain import Aggregate, Conflict, Forbidden, InvalidInput, NotFound, as_utc, new_id
from doorstep_shared.uow import CommandResult, UnitOfWork
from sqlalchemy import select, text

from volunteering import commands as c
from volunteering.domain.activities import CHECKED_IN, SCHEDULED, WAITING, Activity
from volunteering.domain.ledger import Ledger
from volunteering.domain.teams import Team
from volunteering.models import Resident, Staff
from volunteering.models import members_t as M
from volunteering.models import participations_t as P

A = TypeVar("A", bound=Aggregate)
MANAGER_ROLES = frozenset(ADMIN_ROLES | {Role.COMMUNITY_STAFF})
SYSTEM = "system"


# loading and locking ------------------------------------------------------------------


async def _lock(uow: UnitOfWork, stream_id: str) -> None:
    """Queue writers of one stream (PostgreSQL); a no-op on SQLite's single writer."""
    if uow.session.get_bind().dialect.name == "postgresql":
        await uow.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:sid), 1)"), {"sid": stream_id})


async def _load(uow: UnitOfWork, cls: type[A], aggregate_id: str, what: str) -> A:
    await _lock(uow, aggregate_id)
    return await uow.get(cls, aggregate_id, what=what)


async def _ledger(uow: UnitOfWork, resident_id: str) -> Ledger:
    """A volunteer's ledger, opened on first use."""
    await _lock(uow, resident_id)
    ledger = await uow.find(Ledger, resident_id)
    if ledger is None:
        ledger = Ledger(resident_id)
        uow.add(ledger)
    return ledger


async def _activity_and_team(uow: UnitOfWork, activity_id: str) -> tuple[Activity, Team]:
    activity = await _load(uow, Activity, activity_id, "activity")
    team = await uow.get(Team, activity.team_id, what="team")
    return activity, team


# who may act ------------------------------------------------------------------------------


def _require_manager(principal: Principal, community_code: str) -> None:
    """Community staff and area admins manage the teams of the communities they serve."""
    principal.require_role(*MANAGER_ROLES)
    principal.require_area(community_code, field="community_code")


def _is_manager(principal: Principal, team: Team) -> bool:
    return principal.role in MANAGER_ROLES and principal.can_act_in(team.community_code)


def _require_leader_or_manager(principal: Principal, team: Team) -> None:
    if team.is_leader(principal.subject) or _is_manager(principal, team):
        return
    raise Forbidden("only the team's leader or the community's staff may do this")


def own_resident_id(principal: Principal) -> str:
    """A resident's pseudonymous id: the token's resident_id claim, else its subject."""
    return principal.resident_id or principal.subject


def _require_self(principal: Principal, resident_id: str) -> None:
    if resident_id != own_resident_id(principal):
        raise Forbidden("residents act only for themselves", field="resident_id")


def _volunteer_for(principal: Principal, given: str | None, team: Team) -> str:
    """Residents act for themselves; a leader or staff member names the resident."""
    if principal.role == Role.RESIDENT:
        own = own_resident_id(principal)
        if given is not None:
            _require_self(principal, given)
        return own
    _require_leader_or_manager(principal, team)
    if given is None:
        raise InvalidInput("name the resident", field="resident_id")
    return given


async def _require_active_resident(uow: UnitOfWork, resident_id: str) -> Resident:
    row = await uow.session.get(Resident, resident_id)
    if row is None or row.status != "active":
        state = "not a registered resident" if row is None else f"{row.status.replace('_', ' ')}"
        raise InvalidInput(f"resident {resident_id} is {state}", field="resident_id")
    return row


# teams --------------------------------------------------------------------------------------


async def form_team(uow: UnitOfWork, cmd: c.FormTeam, principal: Principal, now: datetime) -> CommandResult:
    _require_manager(principal, cmd.community_code)
    await _require_team_leader(uow, cmd.leader_id, cmd.community_code)
    team = Team.form(
        new_id(),
        name=cmd.name,
        community_code=cmd.community_code,
        focus=cmd.focus,
        leader_id=cmd.leader_id,
        description=cmd.description,
    )
    uow.add(team)
    return uow.result(team)


async def _require_team_leader(uow: UnitOfWork, staff_id: str, community_code: str) -> None:
    staff = await uow.session.get(Staff, staff_id)
    if staff is None or staff.role != Role.TEAM_LEADER:
        raise InvalidInput(f"{staff_id} is not a team leader", field="leader_id")
    if not any(community_code.startswith(area) for area in staff.areas):
        raise InvalidInput(f"team leader {staff_id} does not serve community {community_code}", field="leader_id")


async def change_leader(uow: UnitOfWork, team_id: str, cmd: c.ChangeLeader, principal: Principal) -> CommandResult:
    team = await _load(uow, Team, team_id, "team")
    _require_manager(principal, team.community_code)
    await _require_team_leader(uow, cmd.leader_id, team.community_code)
    team.change_leader(cmd.leader_id)
    return uow.result(team)


async def join_team(uow: UnitOfWork, team_id: str, cmd: c.JoinTeam, principal: Principal) -> CommandResult:
    team = await _load(uow, Team, team_id, "team")
    resident_id = _volunteer_for(principal, cmd.resident_id, team)
    await _require_active_resident(uow, resident_id)
    team.join(resident_id, added_by=principal.subject)
    return uow.result(team)


async def leave_team(
    uow: UnitOfWork, team_id: str, resident_id: str, reason: str | None, principal: Principal
) -> CommandResult:
    """A member leaves of their own accord; a leader or staff member removes one."""
    team = await _load(uow, Team, team_id, "team")
    if principal.role == Role.RESIDENT:
        _require_self(principal, resident_id)
        team.leave(resident_id)
    else:
        _require_leader_or_manager(principal, team)
        team.remove(resident_id, reason=reason or "removed by the team", removed_by=principal.subject)
    return uow.result(team)


# activities -----------------------------------------------------------------------------------


async def schedule_activity(
    uow: UnitOfWork, team_id: str, cmd: c.ScheduleActivity, principal: Principal, now: datetime
) -> CommandResult:
    team = await _load(uow, Team, team_id, "team")
    _require_leader_or_manager(principal, team)
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
        now=now,
    )
    uow.add(activity)
    return uow.result(activity)


async def change_capacity(
    uow: UnitOfWork, activity_id: str, cmd: c.ChangeCapacity, principal: Principal, now: datetime
) -> CommandResult:
    activity, team = await _activity_and_team(uow, activity_id)
    _require_leader_or_manager(principal, team)
    activity.change_capacity(cmd.capacity, now=now)
    return uow.result(activity)


async def cancel_activity(
    uow: UnitOfWork, activity_id: str, cmd: c.CancelActivity, principal: Principal, now: datetime
) -> CommandResult:
    activity, team = await _activity_and_team(uow, activity_id)
    _require_leader_or_manager(principal, team)
    activity.cancel(reason=cmd.reason, by=principal.subject, now=now)
    return uow.result(activity)


async def sign_up(
    uow: UnitOfWork, activity_id: str, cmd: c.SignUp, principal: Principal, now: datetime
) -> CommandResult:
    activity, team = await _activity_and_team(uow, activity_id)
    resident_id = _volunteer_for(principal, cmd.resident_id, team)
    await _require_active_resident(uow, resident_id)
    await _require_no_overlap(uow, activity, resident_id)
    status = activity.sign_up(resident_id, by=principal.subject, now=now)
    return uow.result(activity, status=status, resident_id=resident_id)


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


async def cancel_sign_up(
    uow: UnitOfWork, activity_id: str, resident_id: str, principal: Principal, now: datetime
) -> CommandResult:
    activity, team = await _activity_and_team(uow, activity_id)
    if principal.role == Role.RESIDENT:
        _require_self(principal, resident_id)
        reason = "volunteer"
    else:
        _require_leader_or_manager(principal, team)
        reason = "leader"
    activity.cancel_sign_up(resident_id, reason=reason, by=principal.subject, now=now)
    return uow.result(activity)


async def check_in(
    uow: UnitOfWork, activity_id: str, resident_id: str, principal: Principal, now: datetime
) -> CommandResult:
    activity, team = await _activity_and_team(uow, activity_id)
    _require_leader_or_manager(principal, team)
    activity.check_in(resident_id, by=principal.subject, now=now)
    return uow.result(activity)


async def check_out(
    uow: UnitOfWork, activity_id: str, resident_id: str, principal: Principal, now: datetime
) -> CommandResult:
    activity, team = await _activity_and_team(uow, activity_id)
    _require_leader_or_manager(principal, team)
    activity.check_out(resident_id, by=principal.subject, now=now)
    return uow.result(activity)


async def mark_no_show(
    uow: UnitOfWork, activity_id: str, resident_id: str, principal: Principal, now: datetime
) -> CommandResult:
    activity, team = await _activity_and_team(uow, activity_id)
    _require_leader_or_manager(principal, team)
    activity.mark_no_show(resident_id, by=principal.subject, now=now)
    return uow.result(activity)


async def verify_hours(
    uow: UnitOfWork,
    activity_id: str,
    resident_id: str,
    cmd: c.VerifyHours,
    principal: Principal,
    now: datetime,
    *,
    points_per_hour: int,
) -> CommandResult:
    """The leader confirms the minutes; the same transaction books them in the ledger."""
    activity, team = await _activity_and_team(uow, activity_id)
    minutes = activity.verify(
        resident_id,
        verifier_id=principal.subject,
        verifier_resident_id=principal.resident_id,
        verifier_is_leader=team.is_leader(principal.subject),
        minutes=cmd.minutes,
        now=now,
    )
    ledger = await _ledger(uow, resident_id)
    ledger.record_hours(
        entry_id=new_id(),
        activity_id=activity.id,
        team_id=team.id,
        community_code=activity.community_code,
        minutes=minutes,
        verified_by=principal.subject,
        points_per_hour=points_per_hour,
        now=now,
    )
    return uow.result(activity, verified_minutes=minutes, balance=ledger.balance)


# ledger --------------------------------------------------------------------------------------


async def redeem(
    uow: UnitOfWork, resident_id: str, cmd: c.Redeem, principal: Principal, now: datetime
) -> CommandResult:
    """Spend points at a partner merchant or the community time bank."""
    await _lock(uow, resident_id)
    ledger = await uow.find(Ledger, resident_id)
    resident = await uow.session.get(Resident, resident_id)
    community = (resident.community_code if resident else None) or (ledger.community_code if ledger else "")
    partner_id = cmd.partner_id
    if principal.role == Role.RESIDENT:
        _require_self(principal, resident_id)
    elif principal.role == Role.PARTNER:
        if cmd.channel != "merchant":
            raise InvalidInput("partners redeem at their own shop", field="channel")
        principal.require_area(community, field="resident_id")
        partner_id = principal.partner_id
    else:
        _require_manager(principal, community)
    if ledger is None:
        raise NotFound(f"volunteer {resident_id} has no ledger", field="resident_id")
    ledger.redeem(
        entry_id=new_id(),
        points=cmd.points,
        channel=cmd.channel,
        partner_id=partner_id,
        reference=cmd.reference,
        community_code=community,
        by=principal.subject,
        now=now,
    )
    return uow.result(ledger, balance=ledger.balance)


# reactions to other services' events ---------------------------------------------------------


async def credit_incentive(
    uow: UnitOfWork,
    *,
    reporter_id: str,
    points: int,
    case_id: str,
    source_event_id: str,
    community_code: str,
    now: datetime,
) -> bool:
    """Grid reports verified a courier's case: credit its points once per source event."""
    ledger = await _ledger(uow, reporter_id)
    return ledger.credit(
        entry_id=new_id(),
        points=points,
        source="incentive",
        source_ref=case_id,
        dedupe_key=f"incentive:{source_event_id}",
        community_code=community_code,
        now=now,
    )


async def withdraw_resident(uow: UnitOfWork, resident_id: str, reason: str, now: datetime) -> int:
    """A resident who left (or was erased) leaves every roster and upcoming shift.

    The ledger is not touched: hours served and points earned stay on record.
    Returns how many teams and activities changed; on redelivery that is 0.
    """
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
        team = await _load(uow, Team, team_id, "team")
        if resident_id in team.members:
            team.remove(resident_id, reason=reason, removed_by=SYSTEM)
            changed += 1
    for activity_id in sorted(set(activities)):
        activity = await _load(uow, Activity, activity_id, "activity")
        changed += activity.withdraw_if_upcoming(resident_id, reason=reason, now=now)
    return changed
