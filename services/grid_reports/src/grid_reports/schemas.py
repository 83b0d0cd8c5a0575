"""What grid reports' endpoints answer: command replies and the read models' shapes.

The JSON of a read is its read-model row as stored (every column, `null`
where empty); these models name each field so the OpenAPI document says
what a client gets. The allowed values of states, kinds and categories are the
domain's lists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from doorstep_shared.commands import CommandAccepted
from pydantic import BaseModel, Field

from grid_reports.commands import one_of
from grid_reports.domain.rules import (
    CATEGORIES,
    DISPUTE_STATES,
    FINDINGS,
    KINDS,
    LEVELS,
    PARTY_KINDS,
    PRIORITIES,
    SOURCES,
    STATES,
    VISIT_KINDS,
)

# command replies ----------------------------------------------------------------------------


class CaseReply(CommandAccepted):
    state: str = Field(description=one_of(STATES))


class ReportedCase(CaseReply):
    due_at: datetime | None = Field(description="when the case must be accepted, or it escalates")


class VisitReply(CommandAccepted):
    case_ids: list[str] = Field(description="cases opened at once for safety hazards found at home")


class DisputeReply(CommandAccepted):
    state: str = Field(description=one_of(DISPUTE_STATES))


class SessionReply(DisputeReply):
    session_no: int


# cases ------------------------------------------------------------------------------------


class CaseView(BaseModel):
    id: str
    category: str = Field(description=one_of(CATEGORIES))
    source: str = Field(description=one_of(SOURCES))
    channel: str = Field(description="api, open311 or visit")
    reporter_id: str | None
    community_code: str
    grid_code: str | None
    building: str | None
    latitude: float | None
    longitude: float | None
    address: str | None
    description: str
    photos: list[str]
    priority: str = Field(description=one_of(PRIORITIES))
    state: str = Field(description=one_of(STATES))
    kind: str = Field(description=one_of(KINDS))
    assignee_id: str | None
    level: str = Field(description=one_of(LEVELS))
    escalated_to: str | None
    escalations: int
    erased: bool
    merged_into: str | None
    resolution: str | None
    public_summary: str | None = Field(None, description="what the public Open311 listing shows of the case")
    satisfaction: int | None
    due_at: datetime | None
    feedback_due_at: datetime | None
    reported_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    version: int


class HistoryEntry(BaseModel):
    position: int
    version: int
    type: str
    data: dict[str, Any] = Field(description="the event as recorded (an erased reporter's data masked)")
    actor: str | None
    recorded_at: datetime


class Queue(BaseModel):
    assigned: list[CaseView]
    waiting: list[CaseView]
    due_soon: list[CaseView]
    overdue: list[CaseView]


class Board(BaseModel):
    community_code: str
    by_category: dict[str, dict[str, int]] = Field(description="category -> state -> cases")
    by_kind: dict[str, int] = Field(description=f"cases by kind ({one_of(KINDS)})")
    open_escalated: int


class Figures(BaseModel):
    area_code: str
    since: datetime
    until: datetime
    cases_reported: int
    cases_resolved: int
    within_deadline_pct: float | None
    avg_hours_to_close: float | None
    satisfaction_avg: float | None
    disputes_mediated: int
    disputes_agreed: int
    visits_done: int
    visits_due: int
    residents_overdue_for_visit: int


# visits -----------------------------------------------------------------------------------


class VisitView(BaseModel):
    id: str
    resident_id: str | None
    household_id: str | None
    community_code: str
    grid_code: str
    grid_worker_id: str
    kind: str = Field(description=one_of(VISIT_KINDS))
    findings: list[str] = Field(description=f"each {one_of(FINDINGS)}")
    note: str
    visited_at: datetime


class OverdueVisit(BaseModel):
    resident_id: str
    community_code: str
    grid_code: str
    household_id: str | None
    tags: list[str]
    cadence_days: int | None
    last_visit_at: datetime | None
    visit_due_at: datetime
    days_overdue: int


# disputes ---------------------------------------------------------------------------------


class DisputeSummary(BaseModel):
    id: str
    case_id: str | None
    community_code: str
    grid_code: str | None
    summary: str
    state: str = Field(description=one_of(DISPUTE_STATES))
    sessions: int
    agreement: str | None
    outcome_reason: str | None
    opened_by: str
    opened_at: datetime
    ended_at: datetime | None


class Party(BaseModel):
    party_id: str
    kind: str = Field(description=one_of(PARTY_KINDS))


class MediationSessionView(BaseModel):
    session_no: int
    mediator_id: str
    attendees: list[str]
    notes: str
    held_at: datetime


class DisputeView(BaseModel):
    id: str
    case_id: str | None
    community_code: str
    grid_code: str | None
    summary: str
    state: str = Field(description=one_of(DISPUTE_STATES))
    sessions: list[MediationSessionView]
    agreement: str | None
    outcome_reason: str | None
    opened_by: str
    opened_at: datetime
    ended_at: datetime | None
    parties: list[Party]


# Open311 ----------------------------------------------------------------------------------


class Open311Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class Open311Request(BaseModel):
    """A service request as GeoReport v2 shows it; never who reported it."""

    service_request_id: str
    status: str = Field(description="open or closed")
    status_notes: str = Field(description="the case's state")
    service_name: str
    service_code: str
    description: str = Field(description="the summary staff marked public, or else the service's name")
    agency_responsible: str
    service_notice: str | None
    requested_datetime: str | None
    updated_datetime: str | None
    expected_datetime: str | None
    address: str | None = Field(description="always null: the reporter's address text is not published")
    address_id: str
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class Open311Created(BaseModel):
    service_request_id: str
    service_notice: str | None
    account_id: str | None
