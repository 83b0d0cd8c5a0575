"""Job postings: draft → published → filled / closed / expired.

A posting is filled when its hires reach `total_job_openings`; it expires by
itself once `valid_through` passes (a background sweep records the expiry, and
until then an application after that instant is refused all the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from doorstep_contracts.jobs import (
    JobOpeningFilled,
    JobPostingClosed,
    JobPostingDrafted,
    JobPostingExpired,
    JobPostingFilled,
    JobPostingPublished,
)
from doorstep_shared.areas import within
from doorstep_shared.domain import Aggregate, Conflict, Event, InvalidInput, require_state

from jobs.domain.schedule import parse_windows, to_data

EmploymentType = Literal["full_time", "part_time", "piecework", "odd_job", "public_welfare", "home_based"]
PayUnit = Literal["hour", "day", "month", "piece"]
PostingStatus = Literal["draft", "published", "filled", "closed", "expired"]
EMPLOYMENT_TYPES: tuple[str, ...] = get_args(EmploymentType)
PAY_UNITS: tuple[str, ...] = get_args(PayUnit)
OPEN = "published"


@dataclass(frozen=True)
class PostingDraft:
    """What an employer or community staff fills in (schema.org JobPosting words)."""

    title: str
    description: str
    employment_type: str
    hiring_organization: str
    community_code: str
    grid_code: str | None
    job_location: str
    pay_fen: int
    pay_unit: str
    work_hours: str
    schedule: list[dict[str, Any]]
    skills: list[str]
    total_job_openings: int
    valid_through: datetime


class JobPosting(Aggregate):
    stream_type = "postings"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = "new"
        self.partner_id: str | None = None
        self.community_code = ""
        self.grid_code: str | None = None
        self.employment_type = ""
        self.openings = 0
        self.filled = 0
        self.valid_through: datetime | None = None
        self.hiring_organization = ""
        self.hired_applications: set[str] = set()

    @classmethod
    def draft(
        cls, job_id: str, d: PostingDraft, *, partner_id: str | None, created_by: str, now: datetime
    ) -> JobPosting:
        if not d.title.strip():
            raise InvalidInput("a job needs a title", field="title")
        if d.employment_type not in EMPLOYMENT_TYPES:
            raise InvalidInput(
                f"employment type must be one of {', '.join(EMPLOYMENT_TYPES)}",
                field="employment_type",
            )
        if d.pay_unit not in PAY_UNITS:
            raise InvalidInput(f"pay unit must be one of {', '.join(PAY_UNITS)}", field="base_salary.unit")
        if d.pay_fen <= 0:
            raise InvalidInput("pay must be more than zero", field="base_salary.amount_fen")
        if d.total_job_openings <= 0:
            raise InvalidInput("a job needs at least one opening", field="total_job_openings")
        if d.valid_through <= now:
            raise InvalidInput("validThrough must be in the future", field="valid_through")
        if d.grid_code is not None and not within(d.grid_code, d.community_code):
            raise InvalidInput("the grid is not in the job's community", field="grid_code")
        windows = parse_windows(d.schedule)
        job = cls(job_id)
        job._record(
            JobPostingDrafted(
                job_id=job_id,
                title=d.title.strip(),
                description=d.description,
                employment_type=d.employment_type,
                hiring_organization=d.hiring_organization,
                partner_id=partner_id,
                community_code=d.community_code,
                grid_code=d.grid_code,
                job_location=d.job_location,
                pay_fen=d.pay_fen,
                pay_unit=d.pay_unit,
                work_hours=d.work_hours,
                schedule=to_data(windows),
                skills=sorted({s.strip() for s in d.skills if s.strip()}),
                total_job_openings=d.total_job_openings,
                valid_through=d.valid_through.isoformat(),
                created_by=created_by,
            )
        )
        return job

    def publish(self, now: datetime) -> None:
        require_state(self.status, {"draft"}, "publish a job")
        if self.valid_through is not None and self.valid_through <= now:
            raise Conflict("validThrough has already passed", field="valid_through")
        self._record(JobPostingPublished(self.id, now.isoformat()))

    def close(self, reason: str) -> None:
        require_state(self.status, {"draft", "published"}, "close a job")
        self._record(JobPostingClosed(self.id, reason))

    def expire(self, now: datetime) -> None:
        require_state(self.status, {"published"}, "expire a job")
        if self.valid_through is None or self.valid_through > now:
            raise Conflict("validThrough has not passed yet", field="valid_through")
        self._record(JobPostingExpired(self.id, now.isoformat()))

    def is_open(self, now: datetime) -> bool:
        return self.status == OPEN and (self.valid_through is None or self.valid_through > now)

    def require_open(self, now: datetime) -> None:
        """Applications and hires need a published job whose validThrough has not passed."""
        if self.status == OPEN and not self.is_open(now):
            raise Conflict("the job's validThrough has passed", field="job_id")
        require_state(self.status, {OPEN}, "apply to or hire for a job")

    def fill_opening(self, application_id: str, resident_id: str, now: datetime) -> None:
        self.require_open(now)
        if application_id in self.hired_applications:
            raise Conflict("this application already filled an opening", field="application_id")
        self._record(JobOpeningFilled(self.id, application_id, resident_id, self.filled + 1))
        if self.filled >= self.openings:
            self._record(JobPostingFilled(self.id))

    def apply(self, event: Event) -> None:
        match event:
            case JobPostingDrafted():
                self.status = "draft"
                self.partner_id = event.partner_id
                self.community_code = event.community_code
                self.grid_code = event.grid_code
                self.employment_type = event.employment_type
                self.openings = event.total_job_openings
                self.valid_through = datetime.fromisoformat(event.valid_through)
                self.hiring_organization = event.hiring_organization
            case JobPostingPublished():
                self.status = OPEN
            case JobOpeningFilled():
                self.filled = event.filled
                self.hired_applications.add(event.application_id)
            case JobPostingFilled():
                self.status = "filled"
            case JobPostingClosed():
                self.status = "closed"
            case JobPostingExpired():
                self.status = "expired"
