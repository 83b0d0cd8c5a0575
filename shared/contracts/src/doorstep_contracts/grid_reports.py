"""Events of grid reports: cases (with incentives), visits and disputes.

`IncentiveEarned` and `VisitFindingRecorded` are consumed by other services
and follow docs/events.md field for field; the rest are this service's own
facts, carried with their deadlines so the history explains every escalation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from doorstep_shared.domain import Event, EventRegistry

registry = EventRegistry()


# cases ---------------------------------------------------------------------------


@registry.register
@dataclass(frozen=True)
class CaseReported(Event):
    case_id: str
    category: str
    source: str
    reporter_id: str | None
    community_code: str
    grid_code: str | None
    building: str | None
    latitude: float | None
    longitude: float | None
    address: str | None
    description: str
    photos: tuple[str, ...]
    priority: str
    channel: str
    visit_id: str | None
    reported_at: datetime
    due_at: datetime


@registry.register
@dataclass(frozen=True)
class CaseAccepted(Event):
    case_id: str
    by: str
    at: datetime
    due_at: datetime


@registry.register
@dataclass(frozen=True)
class CaseRejected(Event):
    case_id: str
    by: str
    reason: str
    at: datetime


@registry.register
@dataclass(frozen=True)
class CaseMerged(Event):
    case_id: str
    into_case_id: str
    by: str
    at: datetime


@registry.register
@dataclass(frozen=True)
class CaseAssigned(Event):
    case_id: str
    assignee_id: str
    by: str
    at: datetime
    due_at: datetime


@registry.register
@dataclass(frozen=True)
class CaseStarted(Event):
    case_id: str
    by: str
    at: datetime


@registry.register
@dataclass(frozen=True)
class CaseResolved(Event):
    case_id: str
    by: str
    resolution: str
    photos: tuple[str, ...]
    at: datetime
    feedback_due_at: datetime


@registry.register
@dataclass(frozen=True)
class CaseFeedbackGiven(Event):
    case_id: str
    reporter_id: str
    satisfaction: int
    comment: str
    at: datetime


@registry.register
@dataclass(frozen=True)
class CaseReopened(Event):
    case_id: str
    reason: str
    at: datetime
    due_at: datetime


@registry.register
@dataclass(frozen=True)
class CaseClosed(Event):
    case_id: str
    by: str
    at: datetime
    satisfaction: int | None


@registry.register
@dataclass(frozen=True)
class CasePublicSummarySet(Event):
    """The text staff chose for the public (Open311) listing in place of the reporter's own words."""

    case_id: str
    text: str
    by: str
    at: datetime


@registry.register
@dataclass(frozen=True)
class CaseEscalated(Event):
    case_id: str
    from_level: str
    to_level: str
    area_code: str
    step: str
    overdue_since: datetime
    escalated_at: datetime
    due_at: datetime


@registry.register
@dataclass(frozen=True)
class IncentiveEarned(Event):
    case_id: str
    reporter_id: str
    reporter_kind: str
    points: int
    community_code: str


# visits --------------------------------------------------------------------------


@registry.register
@dataclass(frozen=True)
class VisitRecorded(Event):
    visit_id: str
    resident_id: str | None
    household_id: str | None
    community_code: str
    grid_code: str
    grid_worker_id: str
    kind: str
    visited_at: datetime
    findings: tuple[str, ...]
    note: str


@registry.register
@dataclass(frozen=True)
class VisitFindingRecorded(Event):
    visit_id: str
    resident_id: str | None
    finding: str
    grid_code: str
    grid_worker_id: str
    note: str


# disputes ------------------------------------------------------------------------


@registry.register
@dataclass(frozen=True)
class DisputeOpened(Event):
    dispute_id: str
    case_id: str | None
    community_code: str
    grid_code: str | None
    parties: tuple[dict[str, Any], ...]
    summary: str
    opened_by: str
    opened_at: datetime


@registry.register
@dataclass(frozen=True)
class MediationSessionHeld(Event):
    dispute_id: str
    session_no: int
    mediator_id: str
    held_at: datetime
    attendees: tuple[str, ...]
    notes: str


@registry.register
@dataclass(frozen=True)
class DisputeAgreed(Event):
    dispute_id: str
    agreement: str
    by: str
    at: datetime


@registry.register
@dataclass(frozen=True)
class DisputeNotAgreed(Event):
    dispute_id: str
    reason: str
    by: str
    at: datetime


CASE_EVENTS: tuple[type[Event], ...] = (
    CaseReported,
    CaseAccepted,
    CaseRejected,
    CaseMerged,
    CaseAssigned,
    CaseStarted,
    CaseResolved,
    CaseFeedbackGiven,
    CaseReopened,
    CaseClosed,
    CaseEscalated,
    IncentiveEarned,
    CasePublicSummarySet,
)
VISIT_EVENTS: tuple[type[Event], ...] = (VisitRecorded, VisitFindingRecorded)
DISPUTE_EVENTS: tuple[type[Event], ...] = (
    DisputeOpened,
    MediationSessionHeld,
    DisputeAgreed,
    DisputeNotAgreed,
)

SERVICE = "grid_reports"
# topic `grid_reports.<aggregate>` -> the events published on it
TOPICS: dict[str, list[type[Event]]] = {
    "cases": list(CASE_EVENTS),
    "visits": list(VISIT_EVENTS),
    "disputes": list(DISPUTE_EVENTS),
}
