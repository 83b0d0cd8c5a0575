"""The case read models: `cases` (what queries and Open311 show) and `case_deadlines`.

`case_deadlines` holds one row per case whose clock runs, with the version of
the case it reflects, so the escalation sweep can tell a current row from one
the projection has not caught up on yet. Handlers are idempotent upserts and
updates; the runner already skips redelivered events by stream version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from doorstep_contracts.grid_reports import (
    CaseAccepted,
    CaseAssigned,
    CaseClosed,
    CaseEscalated,
    CaseFeedbackGiven,
    CaseMerged,
    CasePublicSummarySet,
    CaseRejected,
    CaseReopened,
    CaseReported,
    CaseResolved,
    CaseStarted,
    IncentiveEarned,
)
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection
from doorstep_shared.writes import upsert
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from grid_reports.domain.rules import STEP_OF_STATE, kind_of
from grid_reports.models import cases, deadlines


async def set_case(session: AsyncSession, env: Envelope, **values: Any) -> None:
    """Update a case row; a new state also moves its kind and its deadline row."""
    await session.execute(
        update(cases).where(cases.c.id == env.subject).values(version=env.sequence, updated_at=env.time, **values)
    )
    if "state" in values:
        state = values["state"]
        await session.execute(update(cases).where(cases.c.id == env.subject).values(kind=kind_of(state)))
        if state not in STEP_OF_STATE:
            await session.execute(delete(deadlines).where(deadlines.c.case_id == env.subject))
            return
        if "due_at" in values:
            await set_deadline(session, env, STEP_OF_STATE[state], values["due_at"])
            return
    await session.execute(update(deadlines).where(deadlines.c.case_id == env.subject).values(version=env.sequence))


async def set_deadline(session: AsyncSession, env: Envelope, step: str, due_at: datetime) -> None:
    row = (
        await session.execute(
            select(cases.c.category, cases.c.level, cases.c.community_code, cases.c.grid_code).where(
                cases.c.id == env.subject
            )
        )
    ).one()
    await upsert(
        session,
        deadlines,
        [
            {
                "case_id": env.subject,
                "version": env.sequence,
                "category": row.category,
                "step": step,
                "level": row.level,
                "community_code": row.community_code,
                "grid_code": row.grid_code,
                "due_at": due_at,
            }
        ],
        ["case_id"],
    )


def bind_cases(projection: Projection) -> None:
    """Register the case handlers on the service's own projection."""

    @projection.on(CaseReported)
    async def reported(session: AsyncSession, env: Envelope) -> None:
        e = env.event(CaseReported)
        row = {
            "id": e.case_id,
            "category": e.category,
            "source": e.source,
            "channel": e.channel,
            "reporter_id": e.reporter_id,
            "community_code": e.community_code,
            "grid_code": e.grid_code,
            "building": e.building,
            "latitude": e.latitude,
            "longitude": e.longitude,
            "address": e.address,
            "description": e.description,
            "photos": list(e.photos),
            "priority": e.priority,
            "state": "reported",
            "kind": "open",
            "level": "grid" if e.grid_code else "community",
            "escalations": 0,
            "erased": False,
            "due_at": e.due_at,
            "reported_at": e.reported_at,
            "updated_at": env.time,
            "version": env.sequence,
        }
        await upsert(session, cases, [row], ["id"])
        await set_deadline(session, env, "accept", e.due_at)

    @projection.on(CaseAccepted)
    async def accepted(session: AsyncSession, env: Envelope) -> None:
        await set_case(session, env, state="accepted", due_at=env.event(CaseAccepted).due_at)

    @projection.on(CaseRejected)
    async def rejected(session: AsyncSession, env: Envelope) -> None:
        e = env.event(CaseRejected)
        await set_case(session, env, state="rejected", due_at=None, resolution=e.reason, closed_at=e.at)

    @projection.on(CaseMerged)
    async def merged(session: AsyncSession, env: Envelope) -> None:
        e = env.event(CaseMerged)
        await set_case(session, env, state="merged", due_at=None, merged_into=e.into_case_id, closed_at=e.at)

    @projection.on(CaseAssigned)
    async def assigned(session: AsyncSession, env: Envelope) -> None:
        e = env.event(CaseAssigned)
        await set_case(session, env, state="assigned", assignee_id=e.assignee_id, due_at=e.due_at)

    @projection.on(CaseStarted)
    async def started(session: AsyncSession, env: Envelope) -> None:
        await session.execute(update(cases).where(cases.c.id == env.subject).values(state="in_progress"))
        await set_case(session, env)

    @projection.on(CaseResolved)
    async def resolved(session: AsyncSession, env: Envelope) -> None:
        e = env.event(CaseResolved)
        await set_case(
            session,
            env,
            state="resolved",
            due_at=None,
            resolution=e.resolution,
            resolved_at=e.at,
            feedback_due_at=e.feedback_due_at,
        )

    @projection.on(CaseFeedbackGiven)
    async def feedback(session: AsyncSession, env: Envelope) -> None:
        await set_case(session, env, satisfaction=env.event(CaseFeedbackGiven).satisfaction)

    @projection.on(CaseReopened)
    async def reopened(session: AsyncSession, env: Envelope) -> None:
        e = env.event(CaseReopened)
        await set_case(session, env, state="reopened", due_at=e.due_at, resolved_at=None, feedback_due_at=None)

    @projection.on(CaseClosed)
    async def closed(session: AsyncSession, env: Envelope) -> None:
        await set_case(session, env, state="closed", closed_at=env.event(CaseClosed).at)

    @projection.on(CaseEscalated)
    async def escalated(session: AsyncSession, env: Envelope) -> None:
        e = env.event(CaseEscalated)
        await session.execute(
            update(cases)
            .where(cases.c.id == env.subject)
            .values(
                level=e.to_level,
                escalated_to=e.area_code,
                escalations=cases.c.escalations + 1,
                due_at=e.due_at,
                version=env.sequence,
                updated_at=env.time,
            )
        )
        await session.execute(
            update(deadlines)
            .where(deadlines.c.case_id == env.subject)
            .values(level=e.to_level, due_at=e.due_at, version=env.sequence)
        )

    @projection.on(CasePublicSummarySet)
    async def public_summary(session: AsyncSession, env: Envelope) -> None:
        await set_case(session, env, public_summary=env.event(CasePublicSummarySet).text)

    @projection.on(IncentiveEarned)
    async def incentive(session: AsyncSession, env: Envelope) -> None:
        await set_case(session, env)
