"""Teams and their members in the read model: rosters and member counts."""

from __future__ import annotations

from datetime import datetime

from doorstep_contracts.volunteering import MemberJoined, MemberLeft, MemberRemoved, TeamFormed, TeamLeaderChanged
from doorstep_shared.messaging import Envelope
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from volunteering.models import members_t as M
from volunteering.models import teams_t as T
from volunteering.projections.own import occurred, own


@own.on(TeamFormed)
async def team_formed(session: AsyncSession, env: Envelope) -> None:
    e = env.event(TeamFormed)
    await session.execute(
        insert(T).values(
            team_id=e.team_id,
            name=e.name,
            community_code=e.community_code,
            focus=e.focus,
            leader_id=e.leader_id,
            description=e.description,
            member_count=0,
            formed_at=occurred(env),
        )
    )


@own.on(TeamLeaderChanged)
async def leader_changed(session: AsyncSession, env: Envelope) -> None:
    e = env.event(TeamLeaderChanged)
    await session.execute(update(T).where(T.c.team_id == e.team_id).values(leader_id=e.leader_id))


@own.on(MemberJoined)
async def member_joined(session: AsyncSession, env: Envelope) -> None:
    e = env.event(MemberJoined)
    key = (M.c.team_id == e.team_id) & (M.c.resident_id == e.resident_id)
    await session.execute(delete(M).where(key))
    await session.execute(
        insert(M).values(team_id=e.team_id, resident_id=e.resident_id, status="active", joined_at=occurred(env))
    )
    await _count_members(session, e.team_id)


@own.on(MemberLeft)
async def member_left(session: AsyncSession, env: Envelope) -> None:
    e = env.event(MemberLeft)
    await _member_gone(session, e.team_id, e.resident_id, occurred(env), status="left", reason=None)


@own.on(MemberRemoved)
async def member_removed(session: AsyncSession, env: Envelope) -> None:
    e = env.event(MemberRemoved)
    await _member_gone(session, e.team_id, e.resident_id, occurred(env), status="removed", reason=e.reason)


async def _member_gone(
    session: AsyncSession, team_id: str, resident_id: str, at: datetime, *, status: str, reason: str | None
) -> None:
    await session.execute(
        update(M)
        .where(M.c.team_id == team_id, M.c.resident_id == resident_id)
        .values(status=status, reason=reason, left_at=at)
    )
    await _count_members(session, team_id)


async def _count_members(session: AsyncSession, team_id: str) -> None:
    active = select(func.count()).select_from(M).where(M.c.team_id == team_id, M.c.status == "active").scalar_subquery()
    await session.execute(update(T).where(T.c.team_id == team_id).values(member_count=active))
