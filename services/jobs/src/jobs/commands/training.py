"""Partner training: courses, enrolments (with a waiting list), attendance, completion."""

from __future__ import annotations

from doorstep_shared.commands import Command, CommandAccepted, Target
from doorstep_shared.inputs import Command as Nested
from pydantic import AwareDatetime, Field

from jobs.commands.fields import MAX_COUNT, AreaCode, Reason, ResidentRef
from jobs.domain.training import EnrolmentStatus


class CourseSession(Nested):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    topic: str = Field("", max_length=200)


class PublishCourse(Command):
    title: str = Field(min_length=1, max_length=200)
    skill: str = Field(min_length=1, max_length=50)
    community_code: AreaCode
    place: str = Field(min_length=1, max_length=200)
    sessions: list[CourseSession] = Field(min_length=1, max_length=100)
    capacity: int = Field(gt=0, le=10_000)
    subsidy_fen: int = Field(0, ge=0, le=MAX_COUNT)
    required_sessions: int | None = Field(None, gt=0, le=100, description="sessions to attend to complete; default all")


class CancelCourse(Command):
    course_id: Target
    reason: Reason = ""


class Enrol(Command):
    course_id: Target
    resident_id: ResidentRef
    waitlist: bool = Field(True, description="join the waiting list when the course is full")


class RecordAttendance(Command):
    enrolment_id: Target
    session_no: int = Field(gt=0, le=100)
    present: bool = True


class CompleteEnrolment(Command):
    enrolment_id: Target
    certificate_no: str = Field(min_length=1, max_length=60)


class CancelEnrolment(Command):
    enrolment_id: Target
    reason: Reason = ""


class EnrolmentAccepted(CommandAccepted):
    status: EnrolmentStatus
