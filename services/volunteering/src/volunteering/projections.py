"""Read models and reactions, each fed from Kafka.

- `volunteering`: this service's own teams, activities and ledgers → rosters,
  activity lists, statements and totals (the projection `?after=` waits for).
- `directory`: registration's residents and staff, and jobs' hires, course
  completions and piecework payouts (the giving-back marks). An erased
  resident leaves a bare tombstone here, and their marks are dropped.
- `reactions`: residents who moved out or were erased leave rosters and
  upcoming shifts; grid reports' IncentiveEarned credits points. These append
  events through the event store in the projection's own transaction, and are
  harmless when redelivered or replayed: removal is a no-op for someone no
  longer there, and a credit is keyed by the source event's id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from doorstep_shared.domain import as_utc, utcnow
from doorstep_shared.eventstore import EventStore
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection
from doorstep_shared.uow import UnitOfWork
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from volunteering import handlers
from volunteering.domain.activities import HOLDS_A_PLACE, WAITING
from volunteering.models import activities_t as AR
from volunteering.models import helped_t as H
from volunteering.models import ledger_t as L
from volunteering.models import members_t as M
from volunteering.models import participations_t as P
from volunteering.models import residents_t as R
from volunteering.models import staff_t as S
from volunteering.models import teams_t as T
from volunteering.models import totals_t as V

OWN_TOPICS = ["volunteering.teams", "volunteering.activities", "volunteering.ledger"]


def _occurred(env: Envelope) -> datetime:
    return as_utc(env.time or utcnow())


def _when(env: Envelope, key: str = "at") -> datetime:
    """An instant carried in the event's data (UTC), else when the event was recorded."""
    raw = env.data.get(key)
    return as_utc(datetime.fromisoformat(raw)) if raw else _occurred(env)


# own read models ------------------------------------------------------------------------------

own = Projection(
    "volunteering",
    OWN_TOPICS,
    tables=[T, M, AR, P, L, V],
)


@own.on("TeamFormed")
async def team_formed(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    await session.execute(
        insert(T).values(
            team_id=d["team_id"],
            name=d["name"],
            community_code=d["community_code"],
            focus=d["focus"],
            leader_id=d["leader_id"],
            description=d.get("description", ""),
            member_count=0,
            formed_at=_when(env),
        )
    )


@own.on("TeamLeaderChanged")
async def leader_changed(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    await session.execute(update(T).where(T.c.team_id == d["team_id"]).values(leader_id=d["leader_id"]))


@own.on("MemberJoined")
async def member_joined(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    key = (M.c.team_id == d["team_id"]) & (M.c.resident_id == d["resident_id"])
    await session.execute(delete(M).where(key))
    await session.execute(
        insert(M).values(
            team_id=d["team_id"],
            resident_id=d["resident_id"],
            status="active",
            joined_at=_when(env),
        )
    )
    await _count_members(session, d["team_id"])


@own.on("MemberLeft", "MemberRemoved")
async def member_gone(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    removed = env.event_type == "MemberRemoved"
    await session.execute(
        update(M)
        .where(M.c.team_id == d["team_id"], M.c.resident_id == d["resident_id"])
        .values(
            status="removed" if removed else "left",
            reason=d.get("reason") if removed else None,
            left_at=_when(env),
        )
    )
    await _count_members(session, d["team_id"])


async def _count_members(session: AsyncSession, team_id: str) -> None:
    active = select(func.count()).select_from(M).where(M.c.team_id == team_id, M.c.status == "active").scalar_subquery()
    await session.execute(update(T).where(T.c.team_id == team_id).values(member_count=active))


@own.on("ActivityScheduled")
async def activity_scheduled(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    await session.execute(
        insert(AR).values(
            activity_id=d["activity_id"],
            team_id=d["team_id"],
            community_code=d["community_code"],
            title=d["title"],
            description=d.get("description", ""),
            place=d["place"],
            starts_at=_when(env, "starts_at"),
            ends_at=_when(env, "ends_at"),
            capacity=d["capacity"],
            skills_wanted=list(d.get("skills_wanted") or []),
            status="open",
        )
    )


@own.on("ActivityCapacityChanged")
async def capacity_changed(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    await session.execute(update(AR).where(AR.c.activity_id == d["activity_id"]).values(capacity=d["capacity"]))


@own.on("ActivityCancelled")
async def activity_cancelled(session: AsyncSession, env: Envelope) -> None:
    activity_id = env.data["activity_id"]
    await session.execute(update(AR).where(AR.c.activity_id == activity_id).values(status="cancelled"))
    await session.execute(
        update(P)
        .where(P.c.activity_id == activity_id, P.c.status.in_([WAITING, "scheduled"]))
        .values(status="cancelled", cancel_reason="activity_cancelled", waiting_seq=None)
    )
    await _count_places(session, activity_id)


@own.on("VolunteerSignedUp")
async def signed_up(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    activity = (await session.execute(select(AR).where(AR.c.activity_id == d["activity_id"]))).one()
    key = (P.c.activity_id == d["activity_id"]) & (P.c.resident_id == d["resident_id"])
    await session.execute(delete(P).where(key))  # a new sign-up after a cancelled one
    await session.execute(
        insert(P).values(
            activity_id=d["activity_id"],
            resident_id=d["resident_id"],
            team_id=activity.team_id,
            community_code=activity.community_code,
            starts_at=activity.starts_at,
            ends_at=activity.ends_at,
            status=d["status"],
            waiting_seq=env.sequence if d["status"] == WAITING else None,
            signed_up_at=_when(env),
            scheduled_minutes=d["scheduled_minutes"],
        )
    )
    await _count_places(session, d["activity_id"])


async def _set_participation(session: AsyncSession, env: Envelope, *, recount: bool = False, **values: Any) -> None:
    d = env.data
    await session.execute(
        update(P).where(P.c.activity_id == d["activity_id"], P.c.resident_id == d["resident_id"]).values(**values)
    )
    if recount:
        await _count_places(session, d["activity_id"])


@own.on("VolunteerPromoted")
async def promoted(session: AsyncSession, env: Envelope) -> None:
    await _set_participation(session, env, recount=True, status="scheduled", waiting_seq=None)


@own.on("SignUpCancelled")
async def sign_up_cancelled(session: AsyncSession, env: Envelope) -> None:
    await _set_participation(
        session,
        env,
        recount=True,
        status="cancelled",
        waiting_seq=None,
        cancel_reason=env.data["reason"],
    )


@own.on("VolunteerCheckedIn")
async def checked_in(session: AsyncSession, env: Envelope) -> None:
    await _set_participation(session, env, status="checked_in", checked_in_at=_when(env))


@own.on("VolunteerCheckedOut")
async def checked_out(session: AsyncSession, env: Envelope) -> None:
    await _set_participation(
        session,
        env,
        status="completed",
        checked_out_at=_when(env),
        completed_minutes=env.data["completed_minutes"],
    )


@own.on("VolunteerMarkedNoShow")
async def no_show(session: AsyncSession, env: Envelope) -> None:
    await _set_participation(session, env, status="no_show")


@own.on("ParticipationVerified")
async def verified(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    await _set_participation(
        session,
        env,
        verified_minutes=d["verified_minutes"],
        verified_by=d["verified_by"],
        verified_at=_when(env),
    )


async def _count_places(session: AsyncSession, activity_id: str) -> None:
    def count(*statuses: str) -> Any:
        return (
            select(func.count())
            .select_from(P)
            .where(P.c.activity_id == activity_id, P.c.status.in_(statuses))
            .scalar_subquery()
        )

    await session.execute(
        update(AR)
        .where(AR.c.activity_id == activity_id)
        .values(scheduled_count=count(*HOLDS_A_PLACE), waiting_count=count(WAITING))
    )


@own.on("HoursVerified")
async def hours_verified(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    at = _when(env)
    await _entry(
        session,
        env,
        kind="hours",
        minutes=d["minutes"],
        source="activity",
        source_ref=d["activity_id"],
    )
    totals = await _totals(session, d["resident_id"], d["community_code"])
    await session.execute(
        update(V)
        .where(V.c.resident_id == d["resident_id"])
        .values(
            verified_minutes=totals.verified_minutes + d["minutes"],
            first_verified_at=totals.first_verified_at or at,
            community_code=d["community_code"],
        )
    )


@own.on("PointsCredited")
async def points_credited(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    await _entry(
        session,
        env,
        kind="credit",
        points=d["points"],
        balance=d["balance"],
        source=d["source"],
        source_ref=d["source_ref"],
    )
    totals = await _totals(session, d["resident_id"], d["community_code"])
    await session.execute(
        update(V)
        .where(V.c.resident_id == d["resident_id"])
        .values(balance=d["balance"], points_earned=totals.points_earned + d["points"])
    )


@own.on("PointsRedeemed")
async def points_redeemed(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    await _entry(
        session,
        env,
        kind="redemption",
        points=-d["points"],
        balance=d["balance"],
        channel=d["channel"],
        partner_id=d.get("partner_id"),
        reference=d["reference"],
    )
    totals = await _totals(session, d["resident_id"], d["community_code"])
    await session.execute(
        update(V)
        .where(V.c.resident_id == d["resident_id"])
        .values(balance=d["balance"], points_redeemed=totals.points_redeemed + d["points"])
    )


async def _entry(session: AsyncSession, env: Envelope, **values: Any) -> None:
    d = env.data
    await session.execute(
        insert(L).values(
            entry_id=d["entry_id"],
            resident_id=d["resident_id"],
            seq=env.sequence,
            community_code=d["community_code"],
            at=_when(env),
            **values,
        )
    )


async def _totals(session: AsyncSession, resident_id: str, community_code: str) -> Any:
    row = (await session.execute(select(V).where(V.c.resident_id == resident_id))).first()
    if row is None:
        await session.execute(insert(V).values(resident_id=resident_id, community_code=community_code))
        row = (await session.execute(select(V).where(V.c.resident_id == resident_id))).one()
    return row


# directory: residents, staff, giving-back marks -----------------------------------------------

directory = Projection(
    "directory",
    [
        "registration.residents",
        "registration.staff",
        "jobs.applications",
        "jobs.enrolments",
        "jobs.piecework",
    ],
    tables=[R, S, H],
)


async def _set_resident(session: AsyncSession, resident_id: str, **values: Any) -> None:
    await session.execute(update(R).where(R.c.resident_id == resident_id).values(**values))


@directory.on("ResidentRegistered")
async def resident_registered(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    await session.execute(delete(R).where(R.c.resident_id == d["resident_id"]))
    await session.execute(
        insert(R).values(
            resident_id=d["resident_id"],
            status="active",
            community_code=d["community_code"],
            grid_code=d.get("grid_code"),
            skills=list(d.get("skills") or []),
        )
    )


@directory.on("ResidentSkillsUpdated")
async def skills_updated(session: AsyncSession, env: Envelope) -> None:
    await _set_resident(session, env.data["resident_id"], skills=list(env.data["skills"]))


@directory.on("ResidentVerifiedSkillAdded")
async def verified_skill(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    skills = (await session.execute(select(R.c.skills).where(R.c.resident_id == d["resident_id"]))).scalar()
    if skills is not None and d["skill"] not in skills:
        await _set_resident(session, d["resident_id"], skills=[*skills, d["skill"]])


@directory.on("ResidentMovedWithinCommunity")
async def moved_within(session: AsyncSession, env: Envelope) -> None:
    await _set_resident(session, env.data["resident_id"], grid_code=env.data["grid_code"])


@directory.on("ResidentTransferred")
async def transferred(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    await _set_resident(session, d["resident_id"], community_code=d["community_code"], grid_code=d["grid_code"])


@directory.on("ResidentMovedOut")
async def moved_out(session: AsyncSession, env: Envelope) -> None:
    await _set_resident(session, env.data["resident_id"], status="moved_out")


@directory.on("ResidentErased")
async def erased(session: AsyncSession, env: Envelope) -> None:
    """Keep only a tombstone: the id (pseudonymous) and that it was erased."""
    rid = env.data["resident_id"]
    await session.execute(delete(R).where(R.c.resident_id == rid))
    await session.execute(insert(R).values(resident_id=rid, status="erased", skills=[]))
    await session.execute(delete(H).where(H.c.resident_id == rid))


@directory.on("StaffCreated")
async def staff_created(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    await session.execute(delete(S).where(S.c.staff_id == d["staff_id"]))
    await session.execute(insert(S).values(staff_id=d["staff_id"], role=d["role"], areas=list(d["areas"])))


HELP_MARKS = {
    "ApplicationHired": "hired_at",
    "EnrolmentCompleted": "trained_at",
    "PieceworkPayoutSettled": "piecework_at",
}


@directory.on(*HELP_MARKS)
async def helped(session: AsyncSession, env: Envelope) -> None:
    """Mark a resident whom Doorstep helped into work, training or piecework pay."""
    rid = env.data["resident_id"]
    status = (await session.execute(select(R.c.status).where(R.c.resident_id == rid))).scalar()
    if status == "erased":
        return
    column = HELP_MARKS[env.event_type]
    at = _occurred(env)
    row = (await session.execute(select(H).where(H.c.resident_id == rid))).first()
    if row is None:
        await session.execute(insert(H).values(resident_id=rid, first_helped_at=at, **{column: at}))
        return
    values: dict[str, Any] = {"first_helped_at": min(as_utc(row.first_helped_at), at) if row.first_helped_at else at}
    if getattr(row, column) is None:
        values[column] = at
    await session.execute(update(H).where(H.c.resident_id == rid).values(**values))


# reactions ---------------------------------------------------------------------------------------


def reactions(store: EventStore) -> Projection:
    """Reactions that change this service's aggregates, appended through `store`."""
    projection = Projection("reactions", ["registration.residents", "grid_reports.cases"])

    def uow_for(session: AsyncSession, env: Envelope) -> UnitOfWork:
        meta = {
            "correlation_id": env.correlation_id or env.event_id,
            "causation_id": env.event_id,
            "actor": handlers.SYSTEM,
            "command": f"react {env.service}.{env.event_type}",
        }
        return UnitOfWork(session, store, meta)

    @projection.on("ResidentMovedOut", "ResidentErased")
    async def resident_left(session: AsyncSession, env: Envelope) -> None:
        uow = uow_for(session, env)
        reason = "moved_out" if env.event_type == "ResidentMovedOut" else "erased"
        await handlers.withdraw_resident(uow, env.data["resident_id"], reason, _occurred(env))
        await uow.flush()

    @projection.on("IncentiveEarned")
    async def incentive(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        if int(d.get("points") or 0) <= 0:
            return
        uow = uow_for(session, env)
        await handlers.credit_incentive(
            uow,
            reporter_id=d["reporter_id"],
            points=int(d["points"]),
            case_id=d["case_id"],
            source_event_id=env.event_id,
            community_code=d.get("community_code") or "",
            now=_occurred(env),
        )
        await uow.flush()

    return projection
