"""The dispute read models: `disputes`, their `dispute_parties` and `mediation_sessions`."""

from __future__ import annotations

from doorstep_contracts.grid_reports import DisputeAgreed, DisputeNotAgreed, DisputeOpened, MediationSessionHeld
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection
from doorstep_shared.writes import upsert
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from grid_reports.models import disputes, parties, sessions


def bind_disputes(projection: Projection) -> None:
    """Register the dispute handlers on the service's own projection."""

    @projection.on(DisputeOpened)
    async def dispute_opened(session: AsyncSession, env: Envelope) -> None:
        e = env.event(DisputeOpened)
        row = {
            "id": e.dispute_id,
            "case_id": e.case_id,
            "community_code": e.community_code,
            "grid_code": e.grid_code,
            "summary": e.summary,
            "state": "open",
            "sessions": 0,
            "opened_by": e.opened_by,
            "opened_at": e.opened_at,
        }
        await upsert(session, disputes, [row], ["id"])
        await upsert(
            session,
            parties,
            [{"dispute_id": e.dispute_id, "party_id": p["party_id"], "kind": p["kind"]} for p in e.parties],
            ["dispute_id", "party_id"],
        )

    @projection.on(MediationSessionHeld)
    async def session_held(session: AsyncSession, env: Envelope) -> None:
        e = env.event(MediationSessionHeld)
        row = {
            "dispute_id": e.dispute_id,
            "session_no": e.session_no,
            "mediator_id": e.mediator_id,
            "attendees": list(e.attendees),
            "notes": e.notes,
            "held_at": e.held_at,
        }
        await upsert(session, sessions, [row], ["dispute_id", "session_no"])
        await session.execute(
            update(disputes).where(disputes.c.id == e.dispute_id).values(state="mediating", sessions=e.session_no)
        )

    @projection.on(DisputeAgreed)
    async def agreed(session: AsyncSession, env: Envelope) -> None:
        e = env.event(DisputeAgreed)
        await session.execute(
            update(disputes)
            .where(disputes.c.id == e.dispute_id)
            .values(state="agreed", agreement=e.agreement, ended_at=e.at)
        )

    @projection.on(DisputeNotAgreed)
    async def not_agreed(session: AsyncSession, env: Envelope) -> None:
        e = env.event(DisputeNotAgreed)
        await session.execute(
            update(disputes)
            .where(disputes.c.id == e.dispute_id)
            .values(state="not_agreed", outcome_reason=e.reason, ended_at=e.at)
        )
