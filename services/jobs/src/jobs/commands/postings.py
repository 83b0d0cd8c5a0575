"""Posting, publishing, closing and expiring jobs."""

from __future__ import annotations

from doorstep_shared.commands import Command, CommandAccepted, Target
from doorstep_shared.inputs import Command as Nested
from doorstep_shared.inputs import Text
from pydantic import AwareDatetime, Field

from jobs.commands.fields import MAX_COUNT, AreaCode, Reason, Skill, TimeOfDay
from jobs.domain.postings import EmploymentType, PayUnit, PostingStatus
from jobs.domain.schedule import Weekday


class TimeWindow(Nested):
    days: list[Weekday] = Field(min_length=1, max_length=7)
    start: TimeOfDay
    end: TimeOfDay


class BaseSalary(Nested):
    """schema.org MonetaryAmount, in integer fen per unit."""

    amount_fen: int = Field(gt=0, le=MAX_COUNT, description="pay in fen (1/100 yuan) per unit")
    unit: PayUnit


class PostJob(Command):
    title: str = Field(min_length=1, max_length=200)
    description: Text = Field("", max_length=5000)
    employment_type: EmploymentType
    hiring_organization: str | None = Field(None, max_length=200, description="defaults to the partner's name")
    community_code: AreaCode
    grid_code: AreaCode | None = None
    job_location: str = Field("", max_length=200)
    base_salary: BaseSalary
    work_hours: str = Field("", max_length=200)
    schedule: list[TimeWindow] = Field(default_factory=list, max_length=21)
    skills: list[Skill] = Field(default_factory=list, max_length=20)
    total_job_openings: int = Field(1, gt=0, le=10_000)
    valid_through: AwareDatetime
    publish: bool = Field(False, description="publish at once instead of keeping a draft")


class PublishJob(Command):
    job_id: Target


class CloseJob(Command):
    job_id: Target
    reason: Reason = ""


class ExpireJob(Command):
    """Given by the service itself once a published job's validThrough has passed."""

    job_id: Target


class PostingAccepted(CommandAccepted):
    status: PostingStatus
