"""Command bodies: what a caller sends. Pydantic checks shapes and bounds (a 422
naming the field); the aggregates check the rules that need state.

Every body derives from `doorstep_shared.inputs.Command` (no control characters,
numbers that fit the database); free text (`Text`) may hold line breaks.

Postings use snake_case spellings of schema.org JobPosting properties
(`employment_type` = employmentType, `base_salary` = baseSalary, ...).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from doorstep_shared.inputs import Command, Text
from pydantic import AwareDatetime, Field, StringConstraints

AREA = Field(min_length=4, max_length=32, pattern=r"^\d+$")
EmploymentType = Literal["full_time", "part_time", "piecework", "odd_job", "public_welfare", "home_based"]
HHMM = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Skill = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=36)]
MAX_COUNT = 10_000_000  # pieces, fen: far above any real order, far below what a BIGINT holds


class TimeWindow(Command):
    days: list[Weekday] = Field(min_length=1, max_length=7)
    start: str = HHMM
    end: str = HHMM


class BaseSalary(Command):
    """schema.org MonetaryAmount, in integer fen per unit."""

    amount_fen: int = Field(gt=0, le=MAX_COUNT, description="pay in fen (1/100 yuan) per unit")
    unit: Literal["hour", "day", "month", "piece"]


class PostJob(Command):
    title: str = Field(min_length=1, max_length=200)
    description: Text = Field("", max_length=5000)
    employment_type: EmploymentType
    hiring_organization: str | None = Field(None, max_length=200, description="defaults to the partner's name")
    community_code: str = AREA
    grid_code: str | None = Field(None, min_length=4, max_length=32, pattern=r"^\d+$")
    job_location: str = Field("", max_length=200)
    base_salary: BaseSalary
    work_hours: str = Field("", max_length=200)
    schedule: list[TimeWindow] = Field(default_factory=list, max_length=21)
    skills: list[Skill] = Field(default_factory=list, max_length=20)
    total_job_openings: int = Field(1, gt=0, le=10_000)
    valid_through: AwareDatetime
    publish: bool = Field(False, description="publish at once instead of keeping a draft")


class Reason(Command):
    reason: Text = Field("", max_length=500)


class Apply(Command):
    resident_id: str = Field(min_length=1, max_length=36)
    fair_id: str | None = Field(None, max_length=36, description="the fair where the resident met the employer")
    note: Text = Field("", max_length=1000)


class Step(Command):
    note: Text = Field("", max_length=1000)


class ScheduleFair(Command):
    kind: Literal["market_day", "special", "community"] = "community"
    title: str = Field(min_length=1, max_length=200)
    community_code: str = AREA
    place: str = Field(min_length=1, max_length=200)
    date: date
    start: str = HHMM
    end: str = HHMM


class ScheduleFairSeries(Command):
    """Recurring fairs: `rule` is an RRULE (default: the 20th monthly for market days,
    Wednesdays weekly for special fairs), bounded by `until` and/or `count`."""

    kind: Literal["market_day", "special"]
    title: str = Field(min_length=1, max_length=200)
    community_code: str = AREA
    place: str = Field(min_length=1, max_length=200)
    starts_on: date
    until: date | None = None
    count: int | None = Field(None, gt=0, le=104)
    rule: str | None = Field(None, max_length=200)
    start: str = HHMM
    end: str = HHMM


class JoinFair(Command):
    partner_id: str | None = Field(None, max_length=36, description="staff adding an employer; partners omit it")
    job_ids: list[Id] = Field(default_factory=list, max_length=50)


class SignUp(Command):
    resident_id: str = Field(min_length=1, max_length=36)


class PlaceOrder(Command):
    item: str = Field(min_length=1, max_length=200)
    community_code: str = AREA
    quantity: int = Field(gt=0, le=MAX_COUNT)
    rate_fen: int = Field(gt=0, le=MAX_COUNT, description="pay per accepted piece, in fen")
    deadline: AwareDatetime


class IssueBatch(Command):
    resident_id: str = Field(min_length=1, max_length=36)
    quantity: int = Field(gt=0, le=MAX_COUNT)


class Deliver(Command):
    batch_id: str = Field(min_length=1, max_length=36)
    accepted: int = Field(ge=0, le=MAX_COUNT)
    rejected: int = Field(0, ge=0, le=MAX_COUNT)


class Settle(Command):
    resident_id: str = Field(min_length=1, max_length=36)


class Session(Command):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    topic: str = Field("", max_length=200)


class PublishCourse(Command):
    title: str = Field(min_length=1, max_length=200)
    skill: str = Field(min_length=1, max_length=50)
    community_code: str = AREA
    place: str = Field(min_length=1, max_length=200)
    sessions: list[Session] = Field(min_length=1, max_length=100)
    capacity: int = Field(gt=0, le=10_000)
    subsidy_fen: int = Field(0, ge=0, le=MAX_COUNT)
    required_sessions: int | None = Field(None, gt=0, le=100, description="sessions to attend to complete; default all")


class Enrol(Command):
    resident_id: str = Field(min_length=1, max_length=36)
    waitlist: bool = Field(True, description="join the waiting list when the course is full")


class Attendance(Command):
    session_no: int = Field(gt=0, le=100)
    present: bool = True


class Complete(Command):
    certificate_no: str = Field(min_length=1, max_length=60)


class CloseLead(Command):
    outcome: Literal["hired", "enrolled", "not_interested", "unreachable", "other"]
    note: Text = Field("", max_length=1000)
