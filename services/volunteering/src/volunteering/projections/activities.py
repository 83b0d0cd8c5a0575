"""Activities and each volunteer's participation in the read model: lists, rosters,
waiting lists in promotion order, and the places taken and waited for."""

from __future__ import annotations

from typing import Any

from doorstep_contracts.volunteering import (
    ActivityCancelled,
    ActivityCapacityChanged,
    ActivityScheduled,
    ParticipationVerified,
    SignUpCancelled,
    VolunteerCheckedIn,
    VolunteerCheckedOut,
    VolunteerMarkedNoShow,
    VolunteerPromoted,
    VolunteerSignedUp,
)
from doorstep_shared.domain import as_utc
from doorstep_shared.messaging import Envelope
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from volunteering.domain.activities import (
    CANCELLED,
    CHECKED_IN,
    COMPLETED,
    HOLDS_A_PLACE,
    NO_SHOW,
    SCHEDULED,
    WAITING,
)
from volunteering.models import activities_t as AR
from volunteering.models import participations_t as P
from volunteering.projections.own import own


@own.on(ActivityScheduled)
async def activity_scheduled(session: AsyncSession, env: Envelope) -> None:
    e = env.event(ActivityScheduled)
    await session.execute(
        insert(AR).values(
            activity_id=e.activity_id,
            team_id=e.team_id,
            community_code=e.community_code,
            title=e.title,
            description=e.description,
            place=e.place,
            starts_at=as_utc(e.starts_at),
            ends_at=as_utc(e.ends_at),
            capacity=e.capacity,
            skills_wanted=list(e.skills_wanted),
            status="open",
        )
    )


@own.on(ActivityCapacityChanged)
async def capacity_changed(session: AsyncSession, env: Envelope) -> None:
    e = env.event(ActivityCapacityChanged)
    await session.execute(update(AR).where(AR.c.activity_id == e.activity_id).values(capacity=e.capacity))


@own.on(ActivityCancelled)
async def activity_cancelled(session: AsyncSession, env: Envelope) -> None:
    activity_id = env.event(ActivityCancelled).activity_id
    await session.execute(update(AR).where(AR.c.activity_id == activity_id).values(status="cancelled"))
    await session.execute(
        update(P)
        .where(P.c.activity_id == activity_id, P.c.status.in_([WAITING, SCHEDULED]))
        .values(status=CANCELLED, cancel_reason="activity_cancelled", waiting_seq=None)
    )
    await _count_places(session, activity_id)


@own.on(VolunteerSignedUp)
async def signed_up(session: AsyncSession, env: Envelope) -> None:
    e = env.event(VolunteerSignedUp)
    activity = (await session.execute(select(AR).where(AR.c.activity_id == e.activity_id))).one()
    key = (P.c.activity_id == e.activity_id) & (P.c.resident_id == e.resident_id)
    await session.execute(delete(P).where(key))  # a new sign-up after a cancelled one
    await session.execute(
        insert(P).values(
            activity_id=e.activity_id,
            resident_id=e.resident_id,
            team_id=activity.team_id,
            community_code=activity.community_code,
            starts_at=activity.starts_at,
            ends_at=activity.ends_at,
            status=e.status,
            waiting_seq=env.sequence if e.status == WAITING else None,
            signed_up_at=as_utc(e.at),
            scheduled_minutes=e.scheduled_minutes,
        )
    )
    await _count_places(session, e.activity_id)


async def _set_participation(
    session: AsyncSession, activity_id: str, resident_id: str, *, recount: bool = False, **values: Any
) -> None:
    await session.execute(
        update(P).where(P.c.activity_id == activity_id, P.c.resident_id == resident_id).values(**values)
    )
    if recount:
        await _count_places(session, activity_id)


@own.on(VolunteerPromoted)
async def promoted(session: AsyncSession, env: Envelope) -> None:
    e = env.event(VolunteerPromoted)
    await _set_participation(session, e.activity_id, e.resident_id, recount=True, status=SCHEDULED, waiting_seq=None)


@own.on(SignUpCancelled)
async def sign_up_cancelled(session: AsyncSession, env: Envelope) -> None:
    e = env.event(SignUpCancelled)
    await _set_participation(
        session,
        e.activity_id,
        e.resident_id,
        recount=True,
        status=CANCELLED,
        waiting_seq=None,
        cancel_reason=e.reason,
    )


@own.on(VolunteerCheckedIn)
async def checked_in(session: AsyncSession, env: Envelope) -> None:
    e = env.event(VolunteerCheckedIn)
    await _set_participation(session, e.activity_id, e.resident_id, status=CHECKED_IN, checked_in_at=as_utc(e.at))


@own.on(VolunteerCheckedOut)
async def checked_out(session: AsyncSession, env: Envelope) -> None:
    e = env.event(VolunteerCheckedOut)
    await _set_participation(
        session,
        e.activity_id,
        e.resident_id,
        status=COMPLETED,
        checked_out_at=as_utc(e.at),
        completed_minutes=e.completed_minutes,
    )


@own.on(VolunteerMarkedNoShow)
async def no_show(session: AsyncSession, env: Envelope) -> None:
    e = env.event(VolunteerMarkedNoShow)
    await _set_participation(session, e.activity_id, e.resident_id, status=NO_SHOW)


@own.on(ParticipationVerified)
async def verified(session: AsyncSession, env: Envelope) -> None:
    e = env.event(ParticipationVerified)
    await _set_participation(
        session,
        e.activity_id,
        e.resident_id,
        verified_minutes=e.verified_minutes,
        verified_by=e.verified_by,
        verified_at=as_utc(e.at),
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
