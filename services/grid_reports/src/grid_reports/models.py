"""Grid-reports tables: the core event store and the read models fed from Kafka.

`case_deadlines` is the narrow read model the escalation sweep scans: one row
per case with a running clock, indexed on `due_at`, so finding every overdue
case is one range scan however many cases are open.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from doorstep_shared.db import UtcDateTime
from doorstep_shared.eventstore import define_core_tables
from doorstep_shared.partners import define_partner_table
from sqlalchemy import JSON, Column
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Base(SQLModel, registry=registry()):
    pass


metadata = Base.metadata
core = define_core_tables(metadata)
partner_credentials = define_partner_table(metadata)


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(UtcDateTime(), nullable=nullable, index=index),
    )


def _json() -> Any:
    return Field(sa_column=Column(JSON, nullable=False))


class CaseRow(Base, table=True):
    __tablename__ = "cases"
    id: str = Field(primary_key=True, max_length=36)
    category: str = Field(max_length=30, index=True)
    source: str = Field(max_length=30)
    channel: str = Field(max_length=20)
    reporter_id: str | None = Field(default=None, max_length=64, index=True)
    community_code: str = Field(max_length=32, index=True)
    grid_code: str | None = Field(default=None, max_length=32, index=True)
    building: str | None = Field(default=None, max_length=40)
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = Field(default=None, max_length=200)
    description: str = Field(max_length=2000)
    photos: list[str] = _json()
    priority: str = Field(max_length=10)
    state: str = Field(max_length=20, index=True)
    kind: str = Field(max_length=10, index=True)
    assignee_id: str | None = Field(default=None, max_length=64, index=True)
    level: str = Field(max_length=20)
    escalated_to: str | None = Field(default=None, max_length=32, index=True)
    escalations: int = 0
    erased: bool = False
    merged_into: str | None = Field(default=None, max_length=36)
    resolution: str | None = Field(default=None, max_length=2000)
    public_summary: str | None = Field(default=None, max_length=500)
    satisfaction: int | None = None
    due_at: datetime | None = _ts(nullable=True)
    feedback_due_at: datetime | None = _ts(nullable=True)
    reported_at: datetime = _ts()
    resolved_at: datetime | None = _ts(nullable=True)
    closed_at: datetime | None = _ts(nullable=True)
    updated_at: datetime = _ts()
    version: int = 0


class CaseDeadline(Base, table=True):
    __tablename__ = "case_deadlines"
    case_id: str = Field(primary_key=True, max_length=36)
    version: int
    category: str = Field(max_length=30)
    step: str = Field(max_length=10)
    level: str = Field(max_length=20)
    community_code: str = Field(max_length=32)
    grid_code: str | None = Field(default=None, max_length=32)
    due_at: datetime = _ts(index=True)


class VisitRow(Base, table=True):
    __tablename__ = "visits"
    id: str = Field(primary_key=True, max_length=36)
    resident_id: str | None = Field(default=None, max_length=36, index=True)
    household_id: str | None = Field(default=None, max_length=40)
    community_code: str = Field(max_length=32, index=True)
    grid_code: str = Field(max_length=32, index=True)
    grid_worker_id: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=20)
    findings: list[str] = _json()
    note: str = Field(max_length=2000)
    visited_at: datetime = _ts(index=True)


class ResidentRow(Base, table=True):
    """What this service needs of a resident: where they live, their tags and their visit clock."""

    __tablename__ = "residents"
    id: str = Field(primary_key=True, max_length=36)
    community_code: str = Field(max_length=32, index=True)
    grid_code: str = Field(max_length=32, index=True)
    household_id: str | None = Field(default=None, max_length=40)
    tags: list[str] = _json()
    status: str = Field(max_length=20)
    cadence_days: int | None = None
    registered_at: datetime = _ts()
    last_visit_at: datetime | None = _ts(nullable=True)
    visit_due_at: datetime | None = _ts(nullable=True, index=True)


class DisputeRow(Base, table=True):
    __tablename__ = "disputes"
    id: str = Field(primary_key=True, max_length=36)
    case_id: str | None = Field(default=None, max_length=36, index=True)
    community_code: str = Field(max_length=32, index=True)
    grid_code: str | None = Field(default=None, max_length=32)
    summary: str = Field(max_length=2000)
    state: str = Field(max_length=20, index=True)
    sessions: int = 0
    agreement: str | None = Field(default=None, max_length=4000)
    outcome_reason: str | None = Field(default=None, max_length=2000)
    opened_by: str = Field(max_length=64)
    opened_at: datetime = _ts()
    ended_at: datetime | None = _ts(nullable=True)


class DisputeParty(Base, table=True):
    __tablename__ = "dispute_parties"
    dispute_id: str = Field(primary_key=True, max_length=36)
    party_id: str = Field(primary_key=True, max_length=64, index=True)
    kind: str = Field(max_length=20)


class MediationSession(Base, table=True):
    __tablename__ = "mediation_sessions"
    dispute_id: str = Field(primary_key=True, max_length=36)
    session_no: int = Field(primary_key=True)
    mediator_id: str = Field(max_length=64)
    attendees: list[str] = _json()
    notes: str = Field(max_length=4000)
    held_at: datetime = _ts()


# the tables as SQLAlchemy Core sees them: projections write them, views and the sweep read them
cases = CaseRow.__table__  # type: ignore[attr-defined]
deadlines = CaseDeadline.__table__  # type: ignore[attr-defined]
visits = VisitRow.__table__  # type: ignore[attr-defined]
residents = ResidentRow.__table__  # type: ignore[attr-defined]
disputes = DisputeRow.__table__  # type: ignore[attr-defined]
parties = DisputeParty.__table__  # type: ignore[attr-defined]
sessions = MediationSession.__table__  # type: ignore[attr-defined]

# what an erased reporter's free text reads as, in the read models and in a case's history
ERASED_TEXT = "(removed: the reporter's personal data was erased)"
