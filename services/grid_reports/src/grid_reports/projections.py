"""Read models of grid reports, fed from Kafka.

One projection, `reports`, reads this service's own topics and registration's
residents, because the visit clock of a resident moves with both: a visit
recorded here restarts it, a tag change or a move-out in registration changes
or stops it. Handlers are idempotent upserts and updates; the runner already
skips redelivered events by stream version.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from doorstep_shared.db import upsert
from doorstep_shared.messaging import Envelope
from doorstep_shared.partners import partner_projection
from doorstep_shared.projections import Projection
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from grid_reports.domain.rules import STEP_OF_STATE, Policy, kind_of
from grid_reports.models import (
    CaseDeadline,
    CaseRow,
    DisputeParty,
    DisputeRow,
    MediationSession,
    ResidentRow,
    VisitRow,
    partner_credentials,
)

OWN_PROJECTION = "reports"
TOPICS = [
    "grid_reports.cases",
    "grid_reports.visits",
    "grid_reports.disputes",
    "registration.residents",
]
ERASED_TEXT = "(removed: the reporter's personal data was erased)"

cases = CaseRow.__table__  # type: ignore[attr-defined]
deadlines = CaseDeadline.__table__  # type: ignore[attr-defined]
visits = VisitRow.__table__  # type: ignore[attr-defined]
residents = ResidentRow.__table__  # type: ignore[attr-defined]
disputes = DisputeRow.__table__  # type: ignore[attr-defined]
parties = DisputeParty.__table__  # type: ignore[attr-defined]
sessions = MediationSession.__table__  # type: ignore[attr-defined]


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


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

    # cases --------------------------------------------------------------------------

    async def set_case(session: AsyncSession, env: Envelope, **values: Any) -> None:
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

    @projection.on("CaseReported")
    async def reported(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        row = {
            "id": d["case_id"],
            "category": d["category"],
            "source": d["source"],
            "channel": d["channel"],
            "reporter_id": d["reporter_id"],
            "community_code": d["community_code"],
            "grid_code": d["grid_code"],
            "building": d["building"],
            "latitude": d["latitude"],
            "longitude": d["longitude"],
            "address": d["address"],
            "description": d["description"],
            "photos": list(d["photos"]),
            "priority": d["priority"],
            "state": "reported",
            "kind": "open",
            "level": "grid" if d["grid_code"] else "community",
            "escalations": 0,
            "erased": False,
            "due_at": _dt(d["due_at"]),
            "reported_at": _dt(d["reported_at"]),
            "updated_at": env.time,
            "version": env.sequence,
        }
        await upsert(session, cases, [row], ["id"])
        await set_deadline(session, env, "accept", _dt(d["due_at"]))  # type: ignore[arg-type]

    @projection.on("CaseAccepted")
    async def accepted(session: AsyncSession, env: Envelope) -> None:
        await set_case(session, env, state="accepted", due_at=_dt(env.data["due_at"]))

    @projection.on("CaseRejected")
    async def rejected(session: AsyncSession, env: Envelope) -> None:
        await set_case(
            session,
            env,
            state="rejected",
            due_at=None,
            resolution=env.data["reason"],
            closed_at=_dt(env.data["at"]),
        )

    @projection.on("CaseMerged")
    async def merged(session: AsyncSession, env: Envelope) -> None:
        await set_case(
            session,
            env,
            state="merged",
            due_at=None,
            merged_into=env.data["into_case_id"],
            closed_at=_dt(env.data["at"]),
        )

    @projection.on("CaseAssigned")
    async def assigned(session: AsyncSession, env: Envelope) -> None:
        await set_case(
            session,
            env,
            state="assigned",
            assignee_id=env.data["assignee_id"],
            due_at=_dt(env.data["due_at"]),
        )

    @projection.on("CaseStarted")
    async def started(session: AsyncSession, env: Envelope) -> None:
        await session.execute(update(cases).where(cases.c.id == env.subject).values(state="in_progress"))
        await set_case(session, env)

    @projection.on("CaseResolved")
    async def resolved(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        await set_case(
            session,
            env,
            state="resolved",
            due_at=None,
            resolution=d["resolution"],
            resolved_at=_dt(d["at"]),
            feedback_due_at=_dt(d["feedback_due_at"]),
        )

    @projection.on("CaseFeedbackGiven")
    async def feedback(session: AsyncSession, env: Envelope) -> None:
        await set_case(session, env, satisfaction=env.data["satisfaction"])

    @projection.on("CaseReopened")
    async def reopened(session: AsyncSession, env: Envelope) -> None:
        await set_case(
            session,
            env,
            state="reopened",
            due_at=_dt(env.data["due_at"]),
            resolved_at=None,
            feedback_due_at=None,
        )

    @projection.on("CaseClosed")
    async def closed(session: AsyncSession, env: Envelope) -> None:
        await set_case(session, env, state="closed", closed_at=_dt(env.data["at"]))

    @projection.on("CaseEscalated")
    async def escalated(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        due = _dt(d["due_at"])
        await session.execute(
            update(cases)
            .where(cases.c.id == env.subject)
            .values(
                level=d["to_level"],
                escalated_to=d["area_code"],
                escalations=cases.c.escalations + 1,
                due_at=due,
                version=env.sequence,
                updated_at=env.time,
            )
        )
        await session.execute(
            update(deadlines)
            .where(deadlines.c.case_id == env.subject)
            .values(level=d["to_level"], due_at=due, version=env.sequence)
        )

    @projection.on("IncentiveEarned")
    async def incentive(session: AsyncSession, env: Envelope) -> None:
        await set_case(session, env)

    # visits -------------------------------------------------------------------------

    @projection.on("VisitRecorded")
    async def visit_recorded(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        visited_at = _dt(d["visited_at"])
        row = {
            "id": d["visit_id"],
            "resident_id": d["resident_id"],
            "household_id": d["household_id"],
            "community_code": d["community_code"],
            "grid_code": d["grid_code"],
            "grid_worker_id": d["grid_worker_id"],
            "kind": d["kind"],
            "findings": list(d["findings"]),
            "note": d["note"],
            "visited_at": visited_at,
        }
        await upsert(session, visits, [row], ["id"])
        if d["resident_id"]:
            await restart_clock(session, d["resident_id"])

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

    @projection.on("ResidentRegistered")
    async def resident_registered(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        row = {
            "id": d["resident_id"],
            "community_code": d["community_code"],
            "grid_code": d["grid_code"],
            "household_id": d.get("household_id"),
            "tags": list(d.get("tags") or []),
            "status": "active",
            "registered_at": env.time,
        }
        await upsert(session, residents, [row], ["id"])
        await restart_clock(session, d["resident_id"])

    @projection.on("ResidentTagsUpdated")
    async def tags_updated(session: AsyncSession, env: Envelope) -> None:
        await resident_set(session, env, tags=list(env.data["tags"]))

    @projection.on("ResidentProfileUpdated")
    async def profile_updated(session: AsyncSession, env: Envelope) -> None:
        await resident_set(session, env, household_id=env.data.get("household_id"))

    @projection.on("ResidentMovedWithinCommunity")
    async def moved_within(session: AsyncSession, env: Envelope) -> None:
        await resident_set(session, env, grid_code=env.data["grid_code"])

    @projection.on("ResidentTransferred")
    async def transferred(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        await resident_set(session, env, community_code=d["community_code"], grid_code=d["grid_code"])

    @projection.on("ResidentMovedOut")
    async def moved_out(session: AsyncSession, env: Envelope) -> None:
        await resident_set(session, env, status="moved_out")

    async def resident_set(session: AsyncSession, env: Envelope, **values: Any) -> None:
        resident_id = env.data["resident_id"]
        await session.execute(update(residents).where(residents.c.id == resident_id).values(**values))
        await restart_clock(session, resident_id)

    @projection.on("ResidentErased")
    async def erased(session: AsyncSession, env: Envelope) -> None:
        """Drop every personal trace of the resident from these read models."""
        rid = env.data["resident_id"]
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

    # disputes -------------------------------------------------------------------------

    @projection.on("DisputeOpened")
    async def dispute_opened(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        row = {
            "id": d["dispute_id"],
            "case_id": d["case_id"],
            "community_code": d["community_code"],
            "grid_code": d["grid_code"],
            "summary": d["summary"],
            "state": "open",
            "sessions": 0,
            "opened_by": d["opened_by"],
            "opened_at": _dt(d["opened_at"]),
        }
        await upsert(session, disputes, [row], ["id"])
        await upsert(
            session,
            parties,
            [{"dispute_id": d["dispute_id"], "party_id": p["party_id"], "kind": p["kind"]} for p in d["parties"]],
            ["dispute_id", "party_id"],
        )

    @projection.on("MediationSessionHeld")
    async def session_held(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        row = {
            "dispute_id": d["dispute_id"],
            "session_no": d["session_no"],
            "mediator_id": d["mediator_id"],
            "attendees": list(d["attendees"]),
            "notes": d["notes"],
            "held_at": _dt(d["held_at"]),
        }
        await upsert(session, sessions, [row], ["dispute_id", "session_no"])
        await session.execute(
            update(disputes).where(disputes.c.id == d["dispute_id"]).values(state="mediating", sessions=d["session_no"])
        )

    @projection.on("DisputeAgreed")
    async def agreed(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        await session.execute(
            update(disputes)
            .where(disputes.c.id == d["dispute_id"])
            .values(state="agreed", agreement=d["agreement"], ended_at=_dt(d["at"]))
        )

    @projection.on("DisputeNotAgreed")
    async def not_agreed(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        await session.execute(
            update(disputes)
            .where(disputes.c.id == d["dispute_id"])
            .values(state="not_agreed", outcome_reason=d["reason"], ended_at=_dt(d["at"]))
        )

    return projection
