"""Projections: jobs' own read models, the residents read model fed by registration,
and the reactions to other services' events.

The in-memory match index follows the committed read models: handlers note
what changed on the session, and the index takes those changes only once the
transaction commits (a rolled-back batch leaves the index untouched).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from doorstep_shared.db import upsert
from doorstep_shared.eventstore import EventStore
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection
from doorstep_shared.shadow import REPLAYING
from doorstep_shared.uow import UnitOfWork
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from jobs import handlers, views
from jobs.domain.matching import JobFacts, MatchIndex, ResidentFacts
from jobs.views import (
    applications_t,
    batches_t,
    courses_t,
    deliveries_t,
    enrolments_t,
    fair_employers_t,
    fair_signups_t,
    fairs_t,
    leads_t,
    orders_t,
    postings_t,
    residents_t,
    settlements_t,
)

log = logging.getLogger("jobs.projections")

OWN_TOPICS = [f"jobs.{a}" for a in ("postings", "applications", "fairs", "piecework", "courses", "enrolments", "leads")]
INDEX_CHANGES = "jobs.match_index_changes"
ERASED = "erased"

# match index follows commits --------------------------------------------------------------


def _note(session: AsyncSession, index: MatchIndex, change: Callable[[MatchIndex], None]) -> None:
    info = session.sync_session.info
    if info.get(REPLAYING):  # a rebuild writes a shadow read model: the index reloads after its swap
        return
    info.setdefault(INDEX_CHANGES, []).append((index, change))


@event.listens_for(Session, "after_commit")
def _apply_index_changes(session: Session) -> None:
    for index, change in session.info.pop(INDEX_CHANGES, []):
        change(index)


@event.listens_for(Session, "after_rollback")
def _drop_index_changes(session: Session) -> None:
    session.info.pop(INDEX_CHANGES, None)


def _when(env: Envelope) -> datetime | None:
    return env.time


# jobs' own events ------------------------------------------------------------------------------


def read_model_projection(index: MatchIndex) -> Projection:
    p = Projection(
        "read_model",
        OWN_TOPICS,
        tables=[
            postings_t,
            applications_t,
            fairs_t,
            fair_employers_t,
            fair_signups_t,
            orders_t,
            batches_t,
            deliveries_t,
            settlements_t,
            courses_t,
            enrolments_t,
            leads_t,
        ],
    )

    async def job_changed(session: AsyncSession, job_id: str) -> None:
        row = await views.job(session, job_id)
        if row is not None and row["status"] == "published":
            facts = JobFacts.from_row(row)
            _note(session, index, lambda i: i.put_job(facts))
        else:
            _note(session, index, lambda i: i.drop_job(job_id))

    @p.on("JobPostingDrafted")
    async def drafted(session: AsyncSession, env: Envelope) -> None:
        d = dict(env.data)
        d["valid_through"] = datetime.fromisoformat(d["valid_through"])
        d["filled"], d["status"], d["published_at"] = 0, "draft", None
        await upsert(session, postings_t, [d], ["job_id"])

    @p.on("JobPostingPublished")
    async def published(session: AsyncSession, env: Envelope) -> None:
        at = datetime.fromisoformat(env.data["published_at"])
        await _set(session, postings_t, "job_id", env.data["job_id"], status="published", published_at=at)
        await job_changed(session, env.data["job_id"])

    @p.on("JobOpeningFilled")
    async def opening(session: AsyncSession, env: Envelope) -> None:
        await _set(session, postings_t, "job_id", env.data["job_id"], filled=env.data["filled"])

    @p.on("JobPostingFilled", "JobPostingClosed", "JobPostingExpired")
    async def ended(session: AsyncSession, env: Envelope) -> None:
        status = {
            "JobPostingFilled": "filled",
            "JobPostingClosed": "closed",
            "JobPostingExpired": "expired",
        }
        await _set(session, postings_t, "job_id", env.data["job_id"], status=status[env.event_type])
        await job_changed(session, env.data["job_id"])

    # applications
    @p.on("ApplicationSubmitted")
    async def submitted(session: AsyncSession, env: Envelope) -> None:
        row = {**env.data, "status": "applied", "updated_at": _when(env)}
        await upsert(session, applications_t, [row], ["application_id"])

    @p.on("ApplicationAdvanced", "ApplicationHired", "ApplicationRejected", "ApplicationWithdrawn")
    async def moved(session: AsyncSession, env: Envelope) -> None:
        status = {
            "ApplicationHired": "hired",
            "ApplicationRejected": "rejected",
            "ApplicationWithdrawn": "withdrawn",
        }
        new = env.data.get("status") or status[env.event_type]
        await _set(
            session,
            applications_t,
            "application_id",
            env.data["application_id"],
            status=new,
            updated_at=_when(env),
        )
        if env.event_type == "ApplicationHired" and env.data.get("fair_id"):
            await session.execute(
                update(fairs_t).where(fairs_t.c.fair_id == env.data["fair_id"]).values(hires=fairs_t.c.hires + 1)
            )

    # fairs
    @p.on("FairScheduled")
    async def fair_scheduled(session: AsyncSession, env: Envelope) -> None:
        row = {**env.data, "status": "scheduled", "employers": 0, "signups": 0, "hires": 0}
        await upsert(
            session,
            fairs_t,
            [row],
            ["fair_id"],
            update=[c for c in row if c not in ("fair_id", "employers", "signups", "hires")],
        )

    @p.on("FairEmployerJoined")
    async def fair_joined(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        await upsert(
            session,
            fair_employers_t,
            [
                {
                    "fair_id": d["fair_id"],
                    "partner_id": d["partner_id"],
                    "employer_name": d["employer_name"],
                    "job_ids": d["job_ids"],
                }
            ],
            ["fair_id", "partner_id"],
        )
        await _bump(session, fairs_t, "fair_id", d["fair_id"], "employers")

    @p.on("FairResidentSignedUp")
    async def fair_signed_up(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        await upsert(
            session,
            fair_signups_t,
            [
                {
                    "fair_id": d["fair_id"],
                    "resident_id": d["resident_id"],
                    "signed_up_by": d["signed_up_by"],
                }
            ],
            ["fair_id", "resident_id"],
        )
        await _bump(session, fairs_t, "fair_id", d["fair_id"], "signups")

    @p.on("FairCancelled")
    async def fair_cancelled(session: AsyncSession, env: Envelope) -> None:
        await _set(session, fairs_t, "fair_id", env.data["fair_id"], status="cancelled")

    # piecework
    @p.on("PieceworkOrderPlaced")
    async def order_placed(session: AsyncSession, env: Envelope) -> None:
        d = {**env.data, "deadline": datetime.fromisoformat(env.data["deadline"]), "status": "open"}
        await upsert(session, orders_t, [d], ["order_id"])

    @p.on("MaterialBatchIssued")
    async def batch_issued(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        row = {
            "batch_id": d["batch_id"],
            "order_id": d["order_id"],
            "resident_id": d["resident_id"],
            "quantity": d["quantity"],
            "delivered": 0,
            "issued_at": datetime.fromisoformat(d["issued_at"]),
        }
        await upsert(session, batches_t, [row], ["batch_id"])
        await _bump(session, orders_t, "order_id", d["order_id"], "issued", d["quantity"])

    @p.on("PieceworkDelivered")
    async def delivered(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        row = {
            k: d[k]
            for k in (
                "delivery_id",
                "order_id",
                "batch_id",
                "resident_id",
                "accepted",
                "rejected",
                "amount_fen",
            )
        }
        row["delivered_at"] = datetime.fromisoformat(d["delivered_at"])
        await upsert(session, deliveries_t, [row], ["delivery_id"])
        await _bump(
            session,
            batches_t,
            "batch_id",
            d["batch_id"],
            "delivered",
            d["accepted"] + d["rejected"],
        )
        await session.execute(
            update(orders_t)
            .where(orders_t.c.order_id == d["order_id"])
            .values(
                accepted=orders_t.c.accepted + d["accepted"],
                rejected=orders_t.c.rejected + d["rejected"],
                earned_fen=orders_t.c.earned_fen + d["amount_fen"],
            )
        )

    @p.on("PieceworkPayoutSettled")
    async def settled(session: AsyncSession, env: Envelope) -> None:
        """The payout covers exactly the resident's deliveries not yet settled on this order."""
        d = env.data
        settlement_id = f"{d['order_id']}:{env.sequence}"
        community = (
            await session.execute(select(orders_t.c.community_code).where(orders_t.c.order_id == d["order_id"]))
        ).scalar() or ""
        await upsert(
            session,
            settlements_t,
            [
                {
                    "settlement_id": settlement_id,
                    "order_id": d["order_id"],
                    "resident_id": d["resident_id"],
                    "community_code": community,
                    "amount_fen": d["amount_fen"],
                    "pieces": d["pieces"],
                    "settled_at": _when(env),
                }
            ],
            ["settlement_id"],
        )
        await session.execute(
            update(deliveries_t)
            .where(
                deliveries_t.c.order_id == d["order_id"],
                deliveries_t.c.resident_id == d["resident_id"],
                deliveries_t.c.settlement_id.is_(None),
            )
            .values(settlement_id=settlement_id)
        )
        await _bump(session, orders_t, "order_id", d["order_id"], "paid_fen", d["amount_fen"])

    @p.on("PieceworkOrderClosed")
    async def order_closed(session: AsyncSession, env: Envelope) -> None:
        await _set(session, orders_t, "order_id", env.data["order_id"], status="closed")

    # training
    @p.on("CoursePublished")
    async def course_published(session: AsyncSession, env: Envelope) -> None:
        row = {**env.data, "status": "published", "enrolled": 0, "waitlisted": 0, "completed": 0}
        await upsert(session, courses_t, [row], ["course_id"])

    @p.on("CourseCancelled")
    async def course_cancelled(session: AsyncSession, env: Envelope) -> None:
        await _set(session, courses_t, "course_id", env.data["course_id"], status="cancelled")

    @p.on("EnrolmentRequested")
    async def requested(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        row = {
            k: d[k]
            for k in (
                "enrolment_id",
                "course_id",
                "resident_id",
                "partner_id",
                "community_code",
                "status",
            )
        }
        await upsert(
            session,
            enrolments_t,
            [{**row, "attended": [], "updated_at": _when(env)}],
            ["enrolment_id"],
        )
        await _recount(session, d["course_id"])

    @p.on("EnrolmentPromoted", "EnrolmentCompleted", "EnrolmentCancelled")
    async def enrolment_moved(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        status = {
            "EnrolmentPromoted": "enrolled",
            "EnrolmentCompleted": "completed",
            "EnrolmentCancelled": "cancelled",
        }[env.event_type]
        values: dict[str, Any] = {"status": status, "updated_at": _when(env)}
        if env.event_type == "EnrolmentCompleted":
            values["certificate_no"] = d["certificate_no"]
        await _set(session, enrolments_t, "enrolment_id", d["enrolment_id"], **values)
        await _recount(session, d["course_id"])

    @p.on("AttendanceRecorded")
    async def attended(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        current = (
            await session.execute(
                select(enrolments_t.c.attended).where(enrolments_t.c.enrolment_id == d["enrolment_id"])
            )
        ).scalar() or []
        sessions = set(current) | {d["session_no"]} if d["present"] else set(current) - {d["session_no"]}
        await _set(session, enrolments_t, "enrolment_id", d["enrolment_id"], attended=sorted(sessions))

    # leads
    @p.on("JobSeekerLeadOpened")
    async def lead_opened(session: AsyncSession, env: Envelope) -> None:
        row = {**env.data, "status": "open", "outcome": None, "opened_at": _when(env)}
        await upsert(session, leads_t, [row], ["lead_id"])

    @p.on("JobSeekerLeadClosed")
    async def lead_closed(session: AsyncSession, env: Envelope) -> None:
        await _set(
            session,
            leads_t,
            "lead_id",
            env.data["lead_id"],
            status="closed",
            outcome=env.data["outcome"],
        )

    p.after_rebuild(lambda session: reload_index(index, session))

    return p


async def _set(session: AsyncSession, table: Any, key: str, value: str, **values: Any) -> None:
    await session.execute(update(table).where(table.c[key] == value).values(**values))


async def _bump(session: AsyncSession, table: Any, key: str, value: str, column: str, by: int = 1) -> None:
    await session.execute(update(table).where(table.c[key] == value).values({column: table.c[column] + by}))


async def _recount(session: AsyncSession, course_id: str) -> None:
    counts: dict[str, int] = dict(
        (
            await session.execute(
                select(enrolments_t.c.status, func.count())
                .where(enrolments_t.c.course_id == course_id)
                .group_by(enrolments_t.c.status)
            )
        ).all()
    )
    await _set(
        session,
        courses_t,
        "course_id",
        course_id,
        enrolled=counts.get("enrolled", 0),
        waitlisted=counts.get("waitlisted", 0),
        completed=counts.get("completed", 0),
    )


# residents, from registration ---------------------------------------------------------------------------

RESIDENT_FIELDS = (
    "community_code",
    "grid_code",
    "tags",
    "skills",
    "availability",
    "job_preferences",
    "employment_status",
)


def residents_projection(index: MatchIndex) -> Projection:
    p = Projection("residents", ["registration.residents"], tables=[residents_t])

    async def save(session: AsyncSession, row: dict[str, Any]) -> None:
        await upsert(session, residents_t, [row], ["resident_id"])
        facts = ResidentFacts.from_row(row)
        if row["status"] == "active":
            _note(session, index, lambda i: i.put_resident(facts))
        else:
            _note(session, index, lambda i: i.drop_resident(facts.resident_id))

    async def change(session: AsyncSession, env: Envelope, **values: Any) -> None:
        row = await views.resident(session, env.data["resident_id"])
        if row is None:  # registration's later events for a resident jobs never saw: nothing to change
            return
        row.update(values)
        await save(session, row)

    @p.on("ResidentRegistered")
    async def registered(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        consent = d.get("consent") or {}
        row = {k: d.get(k) for k in RESIDENT_FIELDS}
        row.update(
            resident_id=d["resident_id"],
            status="active",
            verified_skills=[],
            tags=d.get("tags") or [],
            skills=d.get("skills") or [],
            availability=d.get("availability") or [],
            job_preferences=d.get("job_preferences") or {},
            employment_status=d.get("employment_status") or "",
            consent_matching=bool(consent.get("employment_matching")),
            share_with_partners=bool(consent.get("share_with_partners")),
        )
        await save(session, row)

    @p.on("ResidentProfileUpdated")
    async def profile(session: AsyncSession, env: Envelope) -> None:
        if env.data.get("job_preferences") is not None:
            await change(session, env, job_preferences=env.data["job_preferences"])

    @p.on("ResidentSkillsUpdated")
    async def skills(session: AsyncSession, env: Envelope) -> None:
        await change(session, env, skills=list(env.data["skills"]))

    @p.on("ResidentVerifiedSkillAdded")
    async def verified(session: AsyncSession, env: Envelope) -> None:
        row = await views.resident(session, env.data["resident_id"])
        if row is not None:
            await change(session, env, verified_skills=sorted({*row["verified_skills"], env.data["skill"]}))

    @p.on("ResidentAvailabilityUpdated")
    async def availability(session: AsyncSession, env: Envelope) -> None:
        await change(session, env, availability=list(env.data["availability"]))

    @p.on("ResidentTagsUpdated")
    async def tags(session: AsyncSession, env: Envelope) -> None:
        await change(session, env, tags=list(env.data["tags"]))

    @p.on("ResidentConsentChanged")
    async def consent(session: AsyncSession, env: Envelope) -> None:
        c = env.data.get("consent") or {}
        await change(
            session,
            env,
            consent_matching=bool(c.get("employment_matching")),
            share_with_partners=bool(c.get("share_with_partners")),
        )

    @p.on("ResidentEmploymentStatusChanged")
    async def employment(session: AsyncSession, env: Envelope) -> None:
        await change(session, env, employment_status=env.data["employment_status"])

    @p.on("ResidentMovedWithinCommunity")
    async def moved(session: AsyncSession, env: Envelope) -> None:
        await change(session, env, grid_code=env.data["grid_code"])

    @p.on("ResidentTransferred")
    async def transferred(session: AsyncSession, env: Envelope) -> None:
        await change(session, env, community_code=env.data["community_code"], grid_code=env.data["grid_code"])

    @p.on("ResidentMovedOut")
    async def moved_out(session: AsyncSession, env: Envelope) -> None:
        await change(session, env, status="moved_out")

    @p.on("ResidentErased")
    async def erased(session: AsyncSession, env: Envelope) -> None:
        """Drop every fact about the resident; keep counts and money totals, unlinked."""
        rid = env.data["resident_id"]
        await session.execute(delete(residents_t).where(residents_t.c.resident_id == rid))
        await session.execute(delete(leads_t).where(leads_t.c.resident_id == rid))
        await session.execute(delete(fair_signups_t).where(fair_signups_t.c.resident_id == rid))
        for table in (applications_t, enrolments_t, batches_t, deliveries_t, settlements_t):
            await session.execute(update(table).where(table.c.resident_id == rid).values(resident_id=ERASED))
        _note(session, index, lambda i: i.drop_resident(rid))

    p.after_rebuild(lambda session: reload_index(index, session))

    return p


# reactions ---------------------------------------------------------------------------------------------------


def reactions_projection(store: EventStore) -> Projection:
    """Turn other services' facts into jobs commands, inside the projection's transaction."""
    p = Projection("reactions", ["registration.residents", "grid_reports.visits"])

    def uow_for(session: AsyncSession, env: Envelope) -> UnitOfWork:
        meta = {
            "correlation_id": env.correlation_id,
            "causation_id": env.event_id,
            "actor": f"jobs:reaction:{env.service}.{env.event_type}",
        }
        return UnitOfWork(session, store, meta)

    @p.on("ResidentMovedOut", "ResidentErased")
    async def left(session: AsyncSession, env: Envelope) -> None:
        uow = uow_for(session, env)
        reason = "resident moved out" if env.event_type == "ResidentMovedOut" else "resident data erased"
        changed = await handlers.resident_left(uow, env.data["resident_id"], reason)
        await uow.flush()
        log.info("resident left: %s streams changed", changed)

    @p.on("VisitFindingRecorded")
    async def finding(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        if d.get("finding") != "wants_job" or not d.get("resident_id"):
            return
        uow = uow_for(session, env)
        await handlers.open_lead(
            uow,
            resident_id=d["resident_id"],
            grid_code=d.get("grid_code") or "",
            grid_worker_id=d.get("grid_worker_id") or "",
            visit_id=d["visit_id"],
            note=d.get("note") or "",
        )
        await uow.flush()

    return p


async def reload_index(index: MatchIndex, session: AsyncSession) -> None:
    """Refill the index from a rebuilt read model (the rebuild did not feed it)."""
    index.__init__(index.shortlist_factor)  # type: ignore[misc]
    await load_index(index, session)


async def load_index(index: MatchIndex, session: AsyncSession) -> None:
    """Fill the index from the read models at start-up; the projections keep it current."""
    for row in await views.all_residents(session):
        index.put_resident(ResidentFacts.from_row(row))
    for row in await views.open_jobs(session):
        index.put_job(JobFacts.from_row(row))
