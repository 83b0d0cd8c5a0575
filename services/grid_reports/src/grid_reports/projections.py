"""Read models of grid reports, fed from Kafka.

One projection, `reports`, reads this service's own topics and registration's
residents, because the visit clock of a resident moves with both: a visit
recorded here restarts it, a tag change or a move-out in registration changes
or stops it. The case and dispute read models are filled by handlers of their
own modules, bound to the same projection (one consumer group, one order).
Handlers are idempotent upserts and updates; the runner already skips
redelivered events by stream version.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from doorstep_contracts.directory import ResidentCopy, partner_projection
from doorstep_contracts.grid_reports import VisitRecorded
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection
from doorstep_shared.writes import upsert
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from grid_reports.domain.rules import Policy
from grid_reports.models import (
    ERASED_TEXT,
    CaseDeadline,
    CaseRow,
    DisputeParty,
    DisputeRow,
    MediationSession,
    ResidentRow,
    VisitRow,
    cases,
    parties,
    partner_credentials,
    residents,
    sessions,
    visits,
)
from grid_reports.projection_cases import bind_cases
from grid_reports.projection_disputes import bind_disputes

OWN_PROJECTION = "reports"
TOPICS = [
    "grid_reports.cases",
    "grid_reports.visits",
    "grid_reports.disputes",
    "registration.residents",
]


def build_projections(policy: Policy) -> list[Projection]:
    """The service's projections; the visit cadence comes from the configured policy."""
    return [_reports(policy), partner_projection(partner_credentials)]


def _reports(policy: Policy) -> Projection:
    projection = Projection(
        OWN_PROJECTION,
        TOPICS,
        tables=[
            CaseDeadline,
            CaseRow,
            VisitRow,
            MediationSession,
            DisputeParty,
            DisputeRow,
            ResidentRow,
        ],
    )
    bind_cases(projection)
    bind_disputes(projection)

    # visits -------------------------------------------------------------------------

    @projection.on(VisitRecorded)
    async def visit_recorded(session: AsyncSession, env: Envelope) -> None:
        e = env.event(VisitRecorded)
        row = {
            "id": e.visit_id,
            "resident_id": e.resident_id,
            "household_id": e.household_id,
            "community_code": e.community_code,
            "grid_code": e.grid_code,
            "grid_worker_id": e.grid_worker_id,
            "kind": e.kind,
            "findings": list(e.findings),
            "note": e.note,
            "visited_at": e.visited_at,
        }
        await upsert(session, visits, [row], ["id"])
        if e.resident_id:
            await restart_clock(session, e.resident_id)

    async def restart_clock(session: AsyncSession, resident_id: str) -> None:
        """Recompute a resident's next visit from their last visit, tags and status."""
        row = (await session.execute(select(residents).where(residents.c.id == resident_id))).first()
        if row is None:
            return  # registration's event is still on its way; it computes the clock on arrival
        last = (
            await session.execute(select(func.max(visits.c.visited_at)).where(visits.c.resident_id == resident_id))
        ).scalar()
        cadence = policy.cadence_for(row.tags)
        due = None
        if row.status == "active" and cadence is not None:
            due = (last or row.registered_at) + timedelta(days=cadence)
        await session.execute(
            update(residents)
            .where(residents.c.id == resident_id)
            .values(last_visit_at=last, cadence_days=cadence, visit_due_at=due)
        )

    # residents (registration) -----------------------------------------------------------

    async def restarted(session: AsyncSession, row: dict[str, Any]) -> None:
        await restart_clock(session, row["id"])

    async def forget(session: AsyncSession, rid: str) -> None:
        """Drop every personal trace of the resident from these read models."""
        await session.execute(delete(residents).where(residents.c.id == rid))
        await session.execute(
            update(visits).where(visits.c.resident_id == rid).values(resident_id=None, household_id=None, note="")
        )
        await session.execute(
            update(cases)
            .where(cases.c.reporter_id == rid)
            .values(
                reporter_id=None,
                erased=True,
                description=ERASED_TEXT,
                photos=[],
                building=None,
                address=None,
                latitude=None,
                longitude=None,
            )
        )
        dispute_ids = (
            (await session.execute(select(parties.c.dispute_id).where(parties.c.party_id == rid))).scalars().all()
        )
        await session.execute(delete(parties).where(parties.c.party_id == rid))
        if dispute_ids:
            held = (await session.execute(select(sessions).where(sessions.c.dispute_id.in_(dispute_ids)))).all()
            for s in held:
                if rid in s.attendees:
                    await session.execute(
                        update(sessions)
                        .where(
                            sessions.c.dispute_id == s.dispute_id,
                            sessions.c.session_no == s.session_no,
                        )
                        .values(attendees=[a for a in s.attendees if a != rid])
                    )

    fields = ["community_code", "grid_code", "household_id", "tags", "status", "registered_at"]
    copy = ResidentCopy(
        residents, {"resident_id": "id", **{f: f for f in fields}}, after_change=restarted, on_erased=forget
    )
    copy.attach(projection)
    return projection
