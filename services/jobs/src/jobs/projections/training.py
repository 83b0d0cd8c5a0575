"""Training read model: courses with their seat counts, enrolments with attendance."""

from __future__ import annotations

from typing import Any

from doorstep_contracts.jobs import (
    AttendanceRecorded,
    CourseCancelled,
    CoursePublished,
    EnrolmentCancelled,
    EnrolmentCompleted,
    EnrolmentPromoted,
    EnrolmentRequested,
)
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection
from doorstep_shared.writes import upsert
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.models import courses_t, enrolments_t
from jobs.projections.rows import set_values

MOVED_TO = {
    EnrolmentPromoted.type_name(): "enrolled",
    EnrolmentCompleted.type_name(): "completed",
    EnrolmentCancelled.type_name(): "cancelled",
}


async def _recount(session: AsyncSession, course_id: str) -> None:
    """A course's enrolled, waiting and completed counts, from its enrolments."""
    counts: dict[str, int] = dict(
        (
            await session.execute(
                select(enrolments_t.c.status, func.count())
                .where(enrolments_t.c.course_id == course_id)
                .group_by(enrolments_t.c.status)
            )
        ).all()
    )
    await set_values(
        session,
        courses_t,
        "course_id",
        course_id,
        enrolled=counts.get("enrolled", 0),
        waitlisted=counts.get("waitlisted", 0),
        completed=counts.get("completed", 0),
    )


def register(p: Projection) -> None:
    @p.on(CoursePublished)
    async def published(session: AsyncSession, env: Envelope) -> None:
        row = {**env.data, "status": "published", "enrolled": 0, "waitlisted": 0, "completed": 0}
        await upsert(session, courses_t, [row], ["course_id"])

    @p.on(CourseCancelled)
    async def cancelled(session: AsyncSession, env: Envelope) -> None:
        await set_values(session, courses_t, "course_id", env.event(CourseCancelled).course_id, status="cancelled")

    @p.on(EnrolmentRequested)
    async def requested(session: AsyncSession, env: Envelope) -> None:
        e = env.event(EnrolmentRequested)
        row: dict[str, Any] = {
            "enrolment_id": e.enrolment_id,
            "course_id": e.course_id,
            "resident_id": e.resident_id,
            "partner_id": e.partner_id,
            "community_code": e.community_code,
            "status": e.status,
            "attended": [],
            "updated_at": env.time,
        }
        await upsert(session, enrolments_t, [row], ["enrolment_id"])
        await _recount(session, e.course_id)

    @p.on(EnrolmentPromoted, EnrolmentCompleted, EnrolmentCancelled)
    async def moved(session: AsyncSession, env: Envelope) -> None:
        d = env.data
        values: dict[str, Any] = {"status": MOVED_TO[env.event_type], "updated_at": env.time}
        if env.event_type == EnrolmentCompleted.type_name():
            values["certificate_no"] = d["certificate_no"]
        await set_values(session, enrolments_t, "enrolment_id", d["enrolment_id"], **values)
        await _recount(session, d["course_id"])

    @p.on(AttendanceRecorded)
    async def attended(session: AsyncSession, env: Envelope) -> None:
        e = env.event(AttendanceRecorded)
        current = (
            await session.execute(select(enrolments_t.c.attended).where(enrolments_t.c.enrolment_id == e.enrolment_id))
        ).scalar() or []
        sessions = set(current) | {e.session_no} if e.present else set(current) - {e.session_no}
        await set_values(session, enrolments_t, "enrolment_id", e.enrolment_id, attended=sorted(sessions))
