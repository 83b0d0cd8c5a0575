"""Jobs' tables: the core event store and the read models its projections keep.

Read models hold no plaintext personal data: residents appear by their
pseudonymous id with only the facts matching needs (area, skills, hours,
preferences, consent, key-population tags).
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


def _ts(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UtcDateTime(), nullable=nullable))


def _json() -> Any:
    return Field(sa_column=Column(JSON, nullable=False))


class ResidentRow(Base, table=True):
    """What registration's events say about a resident, as far as jobs needs it."""

    __tablename__ = "residents"
    resident_id: str = Field(primary_key=True, max_length=36)
    community_code: str = Field(max_length=32, index=True)
    grid_code: str = Field(max_length=32, index=True)
    status: str = Field(max_length=20, index=True)
    employment_status: str = Field(max_length=30)
    tags: list[str] = _json()
    skills: list[str] = _json()
    verified_skills: list[str] = _json()
    availability: list[dict[str, Any]] = _json()
    job_preferences: dict[str, Any] = _json()
    consent_matching: bool = False
    share_with_partners: bool = False


class PostingRow(Base, table=True):
    __tablename__ = "postings"
    job_id: str = Field(primary_key=True, max_length=36)
    title: str = Field(max_length=200)
    description: str
    employment_type: str = Field(max_length=30, index=True)
    hiring_organization: str = Field(max_length=200)
    partner_id: str | None = Field(default=None, max_length=36, index=True)
    community_code: str = Field(max_length=32, index=True)
    grid_code: str | None = Field(default=None, max_length=32)
    job_location: str = Field(max_length=200)
    pay_fen: int
    pay_unit: str = Field(max_length=10)
    work_hours: str = Field(max_length=200)
    schedule: list[dict[str, Any]] = _json()
    skills: list[str] = _json()
    total_job_openings: int
    filled: int = 0
    status: str = Field(max_length=20, index=True)
    valid_through: datetime = _ts()
    created_by: str = Field(max_length=100)
    published_at: datetime | None = _ts(nullable=True)


class ApplicationRow(Base, table=True):
    __tablename__ = "applications"
    application_id: str = Field(primary_key=True, max_length=36)
    job_id: str = Field(max_length=36, index=True)
    resident_id: str = Field(max_length=36, index=True)
    partner_id: str | None = Field(default=None, max_length=36)
    community_code: str = Field(max_length=32, index=True)
    job_community_code: str = Field(max_length=32, index=True)
    fair_id: str | None = Field(default=None, max_length=36, index=True)
    status: str = Field(max_length=20, index=True)
    on_behalf: bool = False
    applied_by: str = Field(max_length=100)
    note: str = ""
    updated_at: datetime | None = _ts(nullable=True)


class FairRow(Base, table=True):
    __tablename__ = "fairs"
    fair_id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(max_length=20)
    title: str = Field(max_length=200)
    community_code: str = Field(max_length=32, index=True)
    place: str = Field(max_length=200)
    date: str = Field(max_length=10, index=True)
    start: str = Field(max_length=5)
    end: str = Field(max_length=5)
    series_id: str | None = Field(default=None, max_length=36, index=True)
    rule: str | None = Field(default=None, max_length=200)
    status: str = Field(max_length=20)
    employers: int = 0
    signups: int = 0
    hires: int = 0


class FairEmployerRow(Base, table=True):
    __tablename__ = "fair_employers"
    fair_id: str = Field(primary_key=True, max_length=36)
    partner_id: str = Field(primary_key=True, max_length=36)
    employer_name: str = Field(max_length=200)
    job_ids: list[str] = _json()


class FairSignupRow(Base, table=True):
    __tablename__ = "fair_signups"
    fair_id: str = Field(primary_key=True, max_length=36)
    resident_id: str = Field(primary_key=True, max_length=36, index=True)
    signed_up_by: str = Field(max_length=100)


class OrderRow(Base, table=True):
    __tablename__ = "piecework_orders"
    order_id: str = Field(primary_key=True, max_length=36)
    partner_id: str = Field(max_length=36, index=True)
    processor_name: str = Field(max_length=200)
    community_code: str = Field(max_length=32, index=True)
    item: str = Field(max_length=200)
    quantity: int
    rate_fen: int
    deadline: datetime = _ts()
    status: str = Field(max_length=20)
    issued: int = 0
    accepted: int = 0
    rejected: int = 0
    earned_fen: int = 0
    paid_fen: int = 0


class BatchRow(Base, table=True):
    __tablename__ = "piecework_batches"
    batch_id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(max_length=36, index=True)
    resident_id: str = Field(max_length=36, index=True)
    quantity: int
    delivered: int = 0
    issued_at: datetime = _ts()


class DeliveryRow(Base, table=True):
    __tablename__ = "piecework_deliveries"
    delivery_id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(max_length=36, index=True)
    batch_id: str = Field(max_length=36)
    resident_id: str = Field(max_length=36, index=True)
    accepted: int
    rejected: int
    amount_fen: int
    delivered_at: datetime = _ts()
    settlement_id: str | None = Field(default=None, max_length=60, index=True)


class SettlementRow(Base, table=True):
    """One payout; its deliveries are those whose `settlement_id` points here."""

    __tablename__ = "piecework_settlements"
    settlement_id: str = Field(primary_key=True, max_length=60)
    order_id: str = Field(max_length=36, index=True)
    resident_id: str = Field(max_length=36, index=True)
    community_code: str = Field(max_length=32, index=True)
    amount_fen: int
    pieces: int
    settled_at: datetime | None = _ts(nullable=True)


class CourseRow(Base, table=True):
    __tablename__ = "courses"
    course_id: str = Field(primary_key=True, max_length=36)
    partner_id: str = Field(max_length=36, index=True)
    school_name: str = Field(max_length=200)
    community_code: str = Field(max_length=32, index=True)
    title: str = Field(max_length=200)
    skill: str = Field(max_length=50)
    sessions: list[dict[str, Any]] = _json()
    capacity: int
    place: str = Field(max_length=200)
    subsidy_fen: int
    required_sessions: int
    status: str = Field(max_length=20)
    enrolled: int = 0
    waitlisted: int = 0
    completed: int = 0


class EnrolmentRow(Base, table=True):
    __tablename__ = "enrolments"
    enrolment_id: str = Field(primary_key=True, max_length=36)
    course_id: str = Field(max_length=36, index=True)
    resident_id: str = Field(max_length=36, index=True)
    partner_id: str = Field(max_length=36)
    community_code: str = Field(max_length=32, index=True)
    status: str = Field(max_length=20, index=True)
    attended: list[int] = _json()
    certificate_no: str | None = Field(default=None, max_length=60)
    updated_at: datetime | None = _ts(nullable=True)


class LeadRow(Base, table=True):
    __tablename__ = "leads"
    lead_id: str = Field(primary_key=True, max_length=36)
    resident_id: str = Field(max_length=36, index=True)
    grid_code: str = Field(max_length=32, index=True)
    grid_worker_id: str = Field(max_length=100)
    visit_id: str = Field(max_length=36)
    note: str = ""
    status: str = Field(max_length=20)
    outcome: str | None = Field(default=None, max_length=30)
    opened_at: datetime | None = _ts(nullable=True)


# the tables themselves, for the read models' SQL (projections write them, views read them)
residents_t = ResidentRow.__table__  # type: ignore[attr-defined]
postings_t = PostingRow.__table__  # type: ignore[attr-defined]
applications_t = ApplicationRow.__table__  # type: ignore[attr-defined]
fairs_t = FairRow.__table__  # type: ignore[attr-defined]
fair_employers_t = FairEmployerRow.__table__  # type: ignore[attr-defined]
fair_signups_t = FairSignupRow.__table__  # type: ignore[attr-defined]
orders_t = OrderRow.__table__  # type: ignore[attr-defined]
batches_t = BatchRow.__table__  # type: ignore[attr-defined]
deliveries_t = DeliveryRow.__table__  # type: ignore[attr-defined]
settlements_t = SettlementRow.__table__  # type: ignore[attr-defined]
courses_t = CourseRow.__table__  # type: ignore[attr-defined]
enrolments_t = EnrolmentRow.__table__  # type: ignore[attr-defined]
leads_t = LeadRow.__table__  # type: ignore[attr-defined]
