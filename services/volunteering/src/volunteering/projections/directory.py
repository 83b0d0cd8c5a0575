"""Other services' facts volunteering keeps a copy of: registration's residents and staff
(who may volunteer, who may lead a team, and where), and jobs' hires, course completions
and piecework payouts (the giving-back marks). An erased resident leaves a bare
tombstone here, and their marks are dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from doorstep_contracts.jobs import ApplicationHired, EnrolmentCompleted, PieceworkPayoutSettled
from doorstep_contracts.registration import (
    ResidentErased,
    ResidentMovedOut,
    ResidentMovedWithinCommunity,
    ResidentRegistered,
    ResidentSkillsUpdated,
    ResidentTransferred,
    ResidentVerifiedSkillAdded,
    StaffCreated,
)
from doorstep_shared.domain import as_utc
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from volunteering.models import helped_t as H
from volunteering.models import residents_t as R
from volunteering.models import staff_t as S
from volunteering.projections.own import occurred

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


# residents ---------------------------------------------------------------------------------------


async def _set_resident(session: AsyncSession, resident_id: str, **values: Any) -> None:
    await session.execute(update(R).where(R.c.resident_id == resident_id).values(**values))


@directory.on(ResidentRegistered)
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


@directory.on(ResidentSkillsUpdated)
async def skills_updated(session: AsyncSession, env: Envelope) -> None:
    await _set_resident(session, env.data["resident_id"], skills=list(env.data["skills"]))


@directory.on(ResidentVerifiedSkillAdded)
async def verified_skill(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    skills = (await session.execute(select(R.c.skills).where(R.c.resident_id == d["resident_id"]))).scalar()
    if skills is not None and d["skill"] not in skills:
        await _set_resident(session, d["resident_id"], skills=[*skills, d["skill"]])


@directory.on(ResidentMovedWithinCommunity)
async def moved_within(session: AsyncSession, env: Envelope) -> None:
    await _set_resident(session, env.data["resident_id"], grid_code=env.data["grid_code"])


@directory.on(ResidentTransferred)
async def transferred(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    await _set_resident(session, d["resident_id"], community_code=d["community_code"], grid_code=d["grid_code"])


@directory.on(ResidentMovedOut)
async def moved_out(session: AsyncSession, env: Envelope) -> None:
    await _set_resident(session, env.data["resident_id"], status="moved_out")


@directory.on(ResidentErased)
async def erased(session: AsyncSession, env: Envelope) -> None:
    """Keep only a tombstone: the id (pseudonymous) and that it was erased."""
    rid = env.data["resident_id"]
    await session.execute(delete(R).where(R.c.resident_id == rid))
    await session.execute(insert(R).values(resident_id=rid, status="erased", skills=[]))
    await session.execute(delete(H).where(H.c.resident_id == rid))


# staff -------------------------------------------------------------------------------------------


@directory.on(StaffCreated)
async def staff_created(session: AsyncSession, env: Envelope) -> None:
    e = env.event(StaffCreated)
    await session.execute(delete(S).where(S.c.staff_id == e.staff_id))
    await session.execute(insert(S).values(staff_id=e.staff_id, role=e.role, areas=list(e.areas)))


# giving-back marks: helped by Doorstep into work, training or piecework pay ----------------------


@directory.on(ApplicationHired)
async def hired(session: AsyncSession, env: Envelope) -> None:
    await _mark_helped(session, env.event(ApplicationHired).resident_id, "hired_at", occurred(env))


@directory.on(EnrolmentCompleted)
async def trained(session: AsyncSession, env: Envelope) -> None:
    await _mark_helped(session, env.event(EnrolmentCompleted).resident_id, "trained_at", occurred(env))


@directory.on(PieceworkPayoutSettled)
async def paid_for_piecework(session: AsyncSession, env: Envelope) -> None:
    await _mark_helped(session, env.event(PieceworkPayoutSettled).resident_id, "piecework_at", occurred(env))


async def _mark_helped(session: AsyncSession, rid: str, column: str, at: datetime) -> None:
    """The first time each kind of help happened, and the first help of any kind."""
    status = (await session.execute(select(R.c.status).where(R.c.resident_id == rid))).scalar()
    if status == "erased":
        return
    row = (await session.execute(select(H).where(H.c.resident_id == rid))).first()
    if row is None:
        await session.execute(insert(H).values(resident_id=rid, first_helped_at=at, **{column: at}))
        return
    values: dict[str, Any] = {"first_helped_at": min(as_utc(row.first_helped_at), at) if row.first_helped_at else at}
    if getattr(row, column) is None:
        values[column] = at
    await session.execute(update(H).where(H.c.resident_id == rid).values(**values))
