"""Volunteering's database: the platform's core tables plus its read models.

Read models are fed by projections only (from this service's own topics, from
registration's residents and staff, and from jobs' events); commands never read
them except for checks that span aggregates (overlapping sign-ups, who a
resident or a staff member is).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from doorstep_shared.db import UtcDateTime
from doorstep_shared.eventstore import define_core_tables
from doorstep_shared.partners import define_partner_table
from sqlalchemy import JSON, Column, Index, Table
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Base(SQLModel, registry=registry()):
    pass


metadata = Base.metadata
core = define_core_tables(metadata)
partners = define_partner_table(metadata)


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_type=UtcDateTime(),
        nullable=nullable,
        index=index,
    )


class Resident(Base, table=True):
    """Registration's residents as far as volunteering needs them.

    `status`: active, moved_out or erased. An erased resident keeps only this
    tombstone (id and status) so a late event cannot bring the data back.
    """

    __tablename__ = "residents"
    resident_id: str = Field(primary_key=True, max_length=64)
    status: str = Field(max_length=20)
    community_code: str | None = Field(default=None, max_length=32, index=True)
    grid_code: str | None = Field(default=None, max_length=32)
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Staff(Base, table=True):
    """Registration's staff: who may lead a team, and where."""

    __tablename__ = "staff"
    staff_id: str = Field(primary_key=True, max_length=64)
    role: str = Field(max_length=40)
    areas: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class TeamRow(Base, table=True):
    __tablename__ = "teams"
    team_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    community_code: str = Field(max_length=32, index=True)
    focus: str = Field(max_length=40)
    leader_id: str = Field(max_length=64)
    description: str = ""
    member_count: int = 0
    formed_at: datetime = _ts()


class TeamMember(Base, table=True):
    """`status`: active, left or removed (with the reason)."""

    __tablename__ = "team_members"
    team_id: str = Field(primary_key=True, max_length=64)
    resident_id: str = Field(primary_key=True, max_length=64, index=True)
    status: str = Field(max_length=20)
    reason: str | None = None
    joined_at: datetime = _ts()
    left_at: datetime | None = _ts(nullable=True)


class ActivityRow(Base, table=True):
    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_community_start", "community_code", "starts_at"),)
    activity_id: str = Field(primary_key=True, max_length=64)
    team_id: str = Field(max_length=64, index=True)
    community_code: str = Field(max_length=32)
    title: str = Field(max_length=200)
    description: str = ""
    place: str = Field(max_length=200)
    starts_at: datetime = _ts()
    ends_at: datetime = _ts()
    capacity: int
    scheduled_count: int = 0
    waiting_count: int = 0
    skills_wanted: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=20, description="open or cancelled")


class ParticipationRow(Base, table=True):
    """One volunteer on one activity; `waiting_seq` orders the waiting list."""

    __tablename__ = "participations"
    activity_id: str = Field(primary_key=True, max_length=64)
    resident_id: str = Field(primary_key=True, max_length=64, index=True)
    team_id: str = Field(max_length=64, index=True)
    community_code: str = Field(max_length=32)
    starts_at: datetime = _ts()
    ends_at: datetime = _ts()
    status: str = Field(max_length=20)
    waiting_seq: int | None = None
    signed_up_at: datetime = _ts()
    scheduled_minutes: int = 0
    checked_in_at: datetime | None = _ts(nullable=True)
    checked_out_at: datetime | None = _ts(nullable=True)
    completed_minutes: int = 0
    verified_minutes: int | None = None
    verified_by: str | None = Field(default=None, max_length=64)
    verified_at: datetime | None = _ts(nullable=True)
    cancel_reason: str | None = Field(default=None, max_length=40)


class LedgerEntry(Base, table=True):
    """One line of a volunteer's statement; `points` is signed (redemptions negative)."""

    __tablename__ = "ledger_entries"
    entry_id: str = Field(primary_key=True, max_length=64)
    resident_id: str = Field(max_length=64, index=True)
    seq: int = Field(description="the entry's version in the volunteer's ledger stream")
    kind: str = Field(max_length=20, description="hours, credit or redemption")
    points: int = 0
    minutes: int = 0
    balance: int | None = None
    source: str | None = Field(default=None, max_length=40)
    source_ref: str | None = Field(default=None, max_length=64)
    channel: str | None = Field(default=None, max_length=20)
    partner_id: str | None = Field(default=None, max_length=64)
    reference: str | None = Field(default=None, max_length=200)
    community_code: str = Field(max_length=32, index=True)
    at: datetime = _ts(index=True)


class VolunteerTotals(Base, table=True):
    """Running totals per volunteer, for balances and leaderboards."""

    __tablename__ = "volunteer_totals"
    resident_id: str = Field(primary_key=True, max_length=64)
    community_code: str = Field(max_length=32, index=True)
    balance: int = 0
    points_earned: int = 0
    points_redeemed: int = 0
    verified_minutes: int = 0
    first_verified_at: datetime | None = _ts(nullable=True)


class HelpedResident(Base, table=True):
    """Marks from jobs' events: this resident was hired, trained or paid through Doorstep."""

    __tablename__ = "helped_residents"
    resident_id: str = Field(primary_key=True, max_length=64)
    hired_at: datetime | None = _ts(nullable=True)
    trained_at: datetime | None = _ts(nullable=True)
    piecework_at: datetime | None = _ts(nullable=True)
    first_helped_at: datetime = _ts()


def _table(name: str) -> Table:
    return metadata.tables[name]


# Core handles on the read-model tables, for the SQL expression language.
residents_t = _table("residents")
staff_t = _table("staff")
teams_t = _table("teams")
members_t = _table("team_members")
activities_t = _table("activities")
participations_t = _table("participations")
ledger_t = _table("ledger_entries")
totals_t = _table("volunteer_totals")
helped_t = _table("helped_residents")
