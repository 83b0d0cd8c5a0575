"""Jobs' facts. Those other services consume (ApplicationHired, EnrolmentCompleted,
PieceworkPayoutSettled) follow docs/events.md field for field.

Residents appear only by their pseudonymous `resident_id`; money is integer fen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from doorstep_shared.domain import Event, EventRegistry

registry = EventRegistry()


# postings ---------------------------------------------------------------------


@registry.register
@dataclass(frozen=True)
class JobPostingDrafted(Event):
    job_id: str
    title: str
    description: str
    employment_type: str
    hiring_organization: str
    partner_id: str | None
    community_code: str
    grid_code: str | None
    job_location: str
    pay_fen: int
    pay_unit: str
    work_hours: str
    schedule: list[dict[str, Any]]
    skills: list[str]
    total_job_openings: int
    valid_through: str
    created_by: str


@registry.register
@dataclass(frozen=True)
class JobPostingPublished(Event):
    job_id: str
    published_at: str


@registry.register
@dataclass(frozen=True)
class JobOpeningFilled(Event):
    job_id: str
    application_id: str
    resident_id: str
    filled: int


@registry.register
@dataclass(frozen=True)
class JobPostingFilled(Event):
    job_id: str


@registry.register
@dataclass(frozen=True)
class JobPostingClosed(Event):
    job_id: str
    reason: str


@registry.register
@dataclass(frozen=True)
class JobPostingExpired(Event):
    job_id: str
    expired_at: str


# applications -------------------------------------------------------------------


@registry.register
@dataclass(frozen=True)
class ApplicationSubmitted(Event):
    application_id: str
    job_id: str
    resident_id: str
    partner_id: str | None
    community_code: str
    job_community_code: str
    fair_id: str | None
    applied_by: str
    on_behalf: bool
    note: str = ""


@registry.register
@dataclass(frozen=True)
class ApplicationAdvanced(Event):
    """A step along applied → shortlisted → interviewed → offered."""

    application_id: str
    status: str
    note: str = ""


@registry.register
@dataclass(frozen=True)
class ApplicationHired(Event):
    application_id: str
    job_id: str
    resident_id: str
    partner_id: str | None
    community_code: str
    fair_id: str | None


@registry.register
@dataclass(frozen=True)
class ApplicationRejected(Event):
    application_id: str
    reason: str


@registry.register
@dataclass(frozen=True)
class ApplicationWithdrawn(Event):
    application_id: str
    reason: str


# fairs ---------------------------------------------------------------------------


@registry.register
@dataclass(frozen=True)
class FairScheduled(Event):
    fair_id: str
    kind: str
    title: str
    community_code: str
    place: str
    date: str
    start: str
    end: str
    series_id: str | None
    rule: str | None


@registry.register
@dataclass(frozen=True)
class FairEmployerJoined(Event):
    fair_id: str
    partner_id: str
    employer_name: str
    job_ids: list[str] = field(default_factory=list)


@registry.register
@dataclass(frozen=True)
class FairResidentSignedUp(Event):
    fair_id: str
    resident_id: str
    signed_up_by: str


@registry.register
@dataclass(frozen=True)
class FairCancelled(Event):
    fair_id: str
    reason: str


# piecework ------------------------------------------------------------------------


@registry.register
@dataclass(frozen=True)
class PieceworkOrderPlaced(Event):
    order_id: str
    partner_id: str
    processor_name: str
    community_code: str
    item: str
    quantity: int
    rate_fen: int
    deadline: str


@registry.register
@dataclass(frozen=True)
class MaterialBatchIssued(Event):
    order_id: str
    batch_id: str
    resident_id: str
    quantity: int
    issued_at: str


@registry.register
@dataclass(frozen=True)
class PieceworkDelivered(Event):
    order_id: str
    delivery_id: str
    batch_id: str
    resident_id: str
    accepted: int
    rejected: int
    amount_fen: int
    delivered_at: str


@registry.register
@dataclass(frozen=True)
class PieceworkPayoutSettled(Event):
    """Pays every unsettled delivery of the resident on this order: those deliveries
    are exactly the ones recorded before it in the stream and not yet settled."""

    order_id: str
    resident_id: str
    amount_fen: int
    pieces: int


@registry.register
@dataclass(frozen=True)
class PieceworkOrderClosed(Event):
    order_id: str
    reason: str


# training ------------------------------------------------------------------------------


@registry.register
@dataclass(frozen=True)
class CoursePublished(Event):
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


@registry.register
@dataclass(frozen=True)
class CourseSeatTaken(Event):
    course_id: str
    enrolment_id: str
    resident_id: str


@registry.register
@dataclass(frozen=True)
class CourseWaitlistJoined(Event):
    course_id: str
    enrolment_id: str
    resident_id: str


@registry.register
@dataclass(frozen=True)
class CourseSeatReleased(Event):
    """An enrolment left; `promoted_enrolment_id` is the waiting-list head that got the seat."""

    course_id: str
    enrolment_id: str
    promoted_enrolment_id: str | None


@registry.register
@dataclass(frozen=True)
class CourseCancelled(Event):
    course_id: str
    reason: str


@registry.register
@dataclass(frozen=True)
class EnrolmentRequested(Event):
    enrolment_id: str
    course_id: str
    resident_id: str
    partner_id: str
    community_code: str
    status: str
    requested_by: str


@registry.register
@dataclass(frozen=True)
class EnrolmentPromoted(Event):
    enrolment_id: str
    course_id: str


@registry.register
@dataclass(frozen=True)
class AttendanceRecorded(Event):
    enrolment_id: str
    session_no: int
    present: bool


@registry.register
@dataclass(frozen=True)
class EnrolmentCompleted(Event):
    enrolment_id: str
    course_id: str
    resident_id: str
    skill: str
    certificate_no: str
    partner_id: str


@registry.register
@dataclass(frozen=True)
class EnrolmentCancelled(Event):
    enrolment_id: str
    course_id: str
    reason: str


# job-seeker leads ------------------------------------------------------------------------


@registry.register
@dataclass(frozen=True)
class JobSeekerLeadOpened(Event):
    lead_id: str
    resident_id: str
    grid_code: str
    grid_worker_id: str
    visit_id: str
    note: str


@registry.register
@dataclass(frozen=True)
class JobSeekerLeadClosed(Event):
    lead_id: str
    outcome: str
    note: str = ""


POSTING_EVENTS: list[type[Event]] = [
    JobPostingDrafted,
    JobPostingPublished,
    JobOpeningFilled,
    JobPostingFilled,
    JobPostingClosed,
    JobPostingExpired,
]
APPLICATION_EVENTS: list[type[Event]] = [
    ApplicationSubmitted,
    ApplicationAdvanced,
    ApplicationHired,
    ApplicationRejected,
    ApplicationWithdrawn,
]
FAIR_EVENTS: list[type[Event]] = [
    FairScheduled,
    FairEmployerJoined,
    FairResidentSignedUp,
    FairCancelled,
]
PIECEWORK_EVENTS: list[type[Event]] = [
    PieceworkOrderPlaced,
    MaterialBatchIssued,
    PieceworkDelivered,
    PieceworkPayoutSettled,
    PieceworkOrderClosed,
]
COURSE_EVENTS: list[type[Event]] = [
    CoursePublished,
    CourseSeatTaken,
    CourseWaitlistJoined,
    CourseSeatReleased,
    CourseCancelled,
]
ENROLMENT_EVENTS: list[type[Event]] = [
    EnrolmentRequested,
    EnrolmentPromoted,
    AttendanceRecorded,
    EnrolmentCompleted,
    EnrolmentCancelled,
]
LEAD_EVENTS: list[type[Event]] = [JobSeekerLeadOpened, JobSeekerLeadClosed]

SERVICE = "jobs"
# topic `jobs.<aggregate>` -> the events published on it
TOPICS: dict[str, list[type[Event]]] = {
    "postings": POSTING_EVENTS,
    "applications": APPLICATION_EVENTS,
    "fairs": FAIR_EVENTS,
    "piecework": PIECEWORK_EVENTS,
    "courses": COURSE_EVENTS,
    "enrolments": ENROLMENT_EVENTS,
    "leads": LEAD_EVENTS,
}
