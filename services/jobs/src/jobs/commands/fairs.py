"""Scheduling job fairs (one-off or recurring), taking part, signing up, cancelling."""

from __future__ import annotations

from datetime import date

from doorstep_shared.commands import Command, CommandAccepted, Target
from pydantic import Field

from jobs.commands.fields import AreaCode, Id, Reason, ResidentRef, TimeOfDay
from jobs.domain.fairs import FairKind, RecurringFairKind


class ScheduleFair(Command):
    kind: FairKind = "community"
    title: str = Field(min_length=1, max_length=200)
    community_code: AreaCode
    place: str = Field(min_length=1, max_length=200)
    date: date
    start: TimeOfDay
    end: TimeOfDay


class ScheduleFairSeries(Command):
    """Recurring fairs: `rule` is an RRULE (default: the 20th monthly for market days,
    Wednesdays weekly for special fairs), bounded by `until` and/or `count`."""

    kind: RecurringFairKind
    title: str = Field(min_length=1, max_length=200)
    community_code: AreaCode
    place: str = Field(min_length=1, max_length=200)
    starts_on: date
    until: date | None = None
    count: int | None = Field(None, gt=0, le=104)
    rule: str | None = Field(None, max_length=200)
    start: TimeOfDay
    end: TimeOfDay


class JoinFair(Command):
    fair_id: Target
    partner_id: str | None = Field(None, max_length=36, description="staff adding an employer; partners omit it")
    job_ids: list[Id] = Field(default_factory=list, max_length=50)


class SignUpForFair(Command):
    fair_id: Target
    resident_id: ResidentRef


class CancelFair(Command):
    fair_id: Target
    reason: Reason = ""


class SeriesScheduled(CommandAccepted):
    """The series answers for its first fair; `id` is the series id."""

    series_id: str
    fair_ids: list[str]
    dates: list[str]
