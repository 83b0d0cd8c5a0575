"""What registration's endpoints answer: the documented shape of every response.

Values read back from the read models are typed `str` where the domain's
enumerations name them: a row written before a value was retired still reads.
Times are UTC, written as `2026-03-01T08:00:00Z`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from doorstep_shared.commands import CommandAccepted
from pydantic import BaseModel, Field

# auth ----------------------------------------------------------------------------------------


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class Me(BaseModel):
    """Who the token belongs to."""

    subject: str
    role: str
    areas: list[str]
    name: str
    partner_id: str | None


# areas ---------------------------------------------------------------------------------------


class AreaChild(BaseModel):
    code: str
    name: str
    level: str
    residents: int = Field(description="Active residents in this area's grids")


class AreaView(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None
    residents: int = Field(description="Active residents in this area's grids")
    children: list[AreaChild]


# residents -----------------------------------------------------------------------------------


class AvailabilityWindow(BaseModel):
    days: list[str]
    start: str
    end: str
    place: str


class ResidentView(BaseModel):
    """A resident as the caller may see them: ID number and phone masked unless the caller is
    their grid worker or community staff; personal fields null once erased."""

    id: str
    name: str | None
    id_number: str | None
    mobile: str | None
    community_code: str
    grid_code: str
    building: str
    unit: str
    household_id: str | None
    hukou: str
    sex: str | None
    birth_year: int | None
    status: str
    employment_status: str
    tags: list[str]
    skills: list[str]
    verified_skills: list[str]
    availability: list[AvailabilityWindow]
    job_preferences: dict[str, Any] = Field(description="types, min_pay_fen, pay_unit; empty once erased")
    consent: dict[str, bool]
    version: int
    registered_at: datetime
    updated_at: datetime


class ResidentPage(BaseModel):
    items: list[ResidentView]
    total: int
    limit: int
    offset: int


class HistoryEntry(BaseModel):
    """One event of a resident's stream; personal fields stay sealed in `data`, and an erased
    resident's events carry only `resident_id` there."""

    position: int
    version: int
    type: str
    time: datetime
    actor: str | None
    data: dict[str, Any] = Field(description="The event as published (see the event contract)")


# partners ------------------------------------------------------------------------------------


class PartnerView(BaseModel):
    id: str
    name: str
    kind: str
    credit_code: str
    area_code: str
    status: str
    registered_at: datetime


class PartnerKeyIssued(CommandAccepted):
    """An approval or a key rotation: the API key is shown here once, and never again."""

    api_key: str


# staff ---------------------------------------------------------------------------------------


class StaffView(BaseModel):
    id: str
    username: str
    role: str
    areas: list[str]
    status: str = Field(description="active, or disabled (cannot sign in)")
