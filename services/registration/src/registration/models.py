"""Registration's tables: the core event store, write-side guards and read models.

Write-side guards (`data_keys`, `id_claims`, `credentials`) are written in the
same transaction as the events they protect: a key for crypto-shredding, one
active registration per ID number, and login credentials that work at once.
Read models (`residents`, `areas`, ...) are fed from Kafka by projections.
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


def _ts() -> Any:
    return Field(sa_column=Column(UtcDateTime(), nullable=False))


class DataKey(Base, table=True):
    __tablename__ = "data_keys"
    resident_id: str = Field(primary_key=True, max_length=36)
    wrapped_key: str = Field(max_length=200)


class IdClaim(Base, table=True):
    __tablename__ = "id_claims"
    id_hash: str = Field(primary_key=True, max_length=64)
    resident_id: str = Field(max_length=36, index=True)


class Credential(Base, table=True):
    __tablename__ = "credentials"
    username: str = Field(primary_key=True, max_length=40)
    staff_id: str = Field(max_length=36, unique=True)
    password_hash: str = Field(max_length=300)
    role: str = Field(max_length=40)
    areas: list[str] = Field(sa_column=Column(JSON, nullable=False))
    disabled: bool = Field(default=False)


class SignInThrottle(Base, table=True):
    """Failed sign-ins per key (`user:`, `addr:`, `pair:`) and addresses a user signed in
    from (`known:`), shared by every API process. Times are epoch seconds."""

    __tablename__ = "sign_in_throttle"
    key: str = Field(primary_key=True, max_length=80)
    failures: int = 0
    lockout: float = 0.0  # seconds of the latest lock-out, doubled by the next
    locked_until: float = 0.0
    forget_at: float = Field(index=True)  # past it the row counts for nothing


class AreaRow(Base, table=True):
    __tablename__ = "areas"
    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    level: str = Field(max_length=20)
    parent_code: str | None = Field(default=None, max_length=32, index=True)


class ResidentRow(Base, table=True):
    __tablename__ = "residents"
    id: str = Field(primary_key=True, max_length=36)
    community_code: str = Field(max_length=32, index=True)
    grid_code: str = Field(max_length=32, index=True)
    building: str = Field(max_length=40)
    unit: str = Field(max_length=40)
    household_id: str | None = Field(default=None, max_length=40)
    hukou: str = Field(max_length=20)
    sex: str | None = Field(default=None, max_length=10)
    birth_year: int | None = None
    employment_status: str = Field(max_length=30, index=True)
    status: str = Field(max_length=20, index=True)
    tags: list[str] = Field(sa_column=Column(JSON, nullable=False))
    skills: list[str] = Field(sa_column=Column(JSON, nullable=False))
    verified_skills: list[str] = Field(sa_column=Column(JSON, nullable=False))
    availability: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    job_preferences: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    consent: dict[str, bool] = Field(sa_column=Column(JSON, nullable=False))
    name_enc: str | None = Field(default=None, max_length=500)
    id_number_enc: str | None = Field(default=None, max_length=500)
    mobile_enc: str | None = Field(default=None, max_length=500)
    version: int = 0
    registered_at: datetime = _ts()
    updated_at: datetime = _ts()


RESIDENTS = ResidentRow.__table__  # type: ignore[attr-defined]  # the Core table, for statements built once


class ResidentTag(Base, table=True):
    __tablename__ = "resident_tags"
    resident_id: str = Field(primary_key=True, max_length=36)
    tag: str = Field(primary_key=True, max_length=40, index=True)


class ResidentSkill(Base, table=True):
    __tablename__ = "resident_skills"
    resident_id: str = Field(primary_key=True, max_length=36)
    skill: str = Field(primary_key=True, max_length=50, index=True)


class PartnerRow(Base, table=True):
    __tablename__ = "partners"
    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    credit_code: str = Field(max_length=18, index=True)
    area_code: str = Field(max_length=32, index=True)
    status: str = Field(max_length=20)
    registered_at: datetime = _ts()


class StaffRow(Base, table=True):
    __tablename__ = "staff"
    id: str = Field(primary_key=True, max_length=36)
    username: str = Field(max_length=40, unique=True)
    role: str = Field(max_length=40)
    areas: list[str] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="active", max_length=20)
