"""Training as read: courses by area and skill, a course's roster, one enrolment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.domain.training import CourseStatus, EnrolmentStatus
from jobs.models import courses_t, enrolments_t
from jobs.views.common import Row, View, every, in_area, one


class CourseView(View):
    """`sessions` are numbered from 1 in time order; `enrolled`, `waitlisted` and
    `completed` count the course's enrolments."""

    course_id: str
    partner_id: str
    school_name: str
    community_code: str
    title: str
    skill: str
    sessions: list[dict[str, Any]]
    capacity: int
    place: str
    subsidy_fen: int
    required_sessions: int
    status: CourseStatus
    enrolled: int
    waitlisted: int
    completed: int


class EnrolmentView(View):
    enrolment_id: str
    course_id: str
    resident_id: str
    partner_id: str
    community_code: str
    status: EnrolmentStatus
    attended: list[int]
    certificate_no: str | None
    updated_at: datetime | None


async def course(session: AsyncSession, course_id: str) -> Row | None:
    return await one(session, select(courses_t).where(courses_t.c.course_id == course_id))


async def courses(session: AsyncSession, *, area: str | None, skill: str | None) -> list[Row]:
    stmt = select(courses_t)
    if area:
        stmt = stmt.where(in_area(courses_t.c.community_code, area))
    if skill:
        stmt = stmt.where(courses_t.c.skill == skill)
    return await every(session, stmt.order_by(courses_t.c.title).limit(500))


async def roster(session: AsyncSession, course_id: str) -> list[Row]:
    """Enrolled first, then completed, then the waiting list in its order."""
    order = case(
        (enrolments_t.c.status == "enrolled", 0),
        (enrolments_t.c.status == "completed", 1),
        (enrolments_t.c.status == "waitlisted", 2),
        else_=3,
    )
    stmt = (
        select(enrolments_t)
        .where(enrolments_t.c.course_id == course_id)
        .order_by(order, enrolments_t.c.updated_at, enrolments_t.c.enrolment_id)
    )
    return await every(session, stmt)


async def enrolment(session: AsyncSession, enrolment_id: str) -> Row | None:
    return await one(session, select(enrolments_t).where(enrolments_t.c.enrolment_id == enrolment_id))
