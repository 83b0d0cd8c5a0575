"""Other services' facts volunteering keeps a copy of: registration's residents and staff
(who may volunteer, who may lead a team, and where), and jobs' hires, course completions
and piecework payouts (the giving-back marks). An erased resident leaves a bare
tombstone here, and their marks are dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from doorstep_contracts.directory import ResidentCopy
from doorstep_contracts.jobs import ApplicationHired, EnrolmentCompleted, PieceworkPayoutSettled
from doorstep_contracts.registration import StaffCreated
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


async def _tombstone(session: AsyncSession, rid: str) -> None:
    """Keep only a tombstone: the id (pseudonymous) and that it was erased."""
    await session.execute(delete(R).where(R.c.resident_id == rid))
    await session.execute(insert(R).values(resident_id=rid, status="erased", skills=[]))
    await session.execute(delete(H).where(H.c.resident_id == rid))


ResidentCopy(
    R,
    {
        "resident_id": "resident_id",
        "status": "status",
        "community_code": "community_code",
        "grid_code": "grid_code",
        "skills": "skills",
        "verified_skills": "skills",
    },
    on_erased=_tombstone,
).attach(directory)


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
