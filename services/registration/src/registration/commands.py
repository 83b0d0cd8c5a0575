"""Request bodies of registration's commands: shapes and bounds, checked at the edge.

Every model derives from `doorstep_shared.inputs.Command`, so text holds no
control characters and numbers fit the database; the limits here are what a
resident's record needs (and what the read models' columns hold). The rules
that need state (the area exists, the ID number is unique) are the domain's.
"""

from __future__ import annotations

from typing import Annotated, Literal

from doorstep_shared.inputs import Command
from pydantic import Field, StringConstraints

AreaCode = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Skill = Annotated[str, StringConstraints(max_length=50)]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
HHMM = Field(pattern=r"^\d\d:\d\d$", examples=["08:30"])
MAX_SKILLS = 30
MAX_WINDOWS = 21  # three a day
Tag = Literal[
    "elderly",
    "living_alone",
    "disabled",
    "unemployed",
    "stay_at_home_parent",
    "low_income",
    "veteran",
]
EmploymentStatus = Literal["employed", "unemployed", "flexible", "retired", "student", "not_in_labour_force"]
StaffRole = Literal[
    "city_admin",
    "district_admin",
    "street_admin",
    "community_staff",
    "grid_worker",
    "team_leader",
]


class LoginForm(Command):
    """OAuth2 password grant (form-encoded), with the bounds of the stored credentials."""

    grant_type: str | None = Field(default=None, pattern="^password$")
    username: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)
    scope: str = Field(default="", max_length=200)
    client_id: str | None = Field(default=None, max_length=100)
    client_secret: str | None = Field(default=None, max_length=200)


class AreaCreate(Command):
    code: str = Field(min_length=1, max_length=32, examples=["330102001001"])
    name: str = Field(min_length=1, max_length=100)
    level: Literal["city", "district", "street", "community", "grid"]
    parent_code: AreaCode | None = None


class Window(Command):
    days: list[Day] = Field(min_length=1, max_length=7)
    start: str = HHMM
    end: str = Field(pattern=r"^\d\d:\d\d$", examples=["16:30"])
    place: Literal["home", "workshop", "any"] = "any"


class JobPreferences(Command):
    types: list[Literal["full_time", "part_time", "piecework", "odd_job", "public_welfare", "home_based"]] = Field(
        default_factory=list, max_length=6
    )
    min_pay_fen: int | None = Field(default=None, ge=0, le=100_000_000)
    pay_unit: Literal["hour", "day", "month", "piece"] | None = None


class Consent(Command):
    employment_matching: bool = False
    share_with_partners: bool = False


class ResidentCreate(Command):
    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=1, max_length=30, description="18-character resident ID (GB 11643)")
    mobile: str = Field(min_length=1, max_length=20)
    grid_code: AreaCode
    building: str = Field(max_length=40)
    unit: str = Field(max_length=40)
    hukou: Literal["local", "non_local"]
    household_id: str | None = Field(default=None, max_length=40)
    tags: list[Tag] = Field(default_factory=list, max_length=7)
    skills: list[Skill] = Field(default_factory=list, max_length=MAX_SKILLS)
    availability: list[Window] = Field(default_factory=list, max_length=MAX_WINDOWS)
    job_preferences: JobPreferences = JobPreferences()
    employment_status: EmploymentStatus = "unemployed"
    consent: Consent = Consent()


class ProfileUpdate(Command):
    name: str | None = Field(default=None, min_length=1, max_length=50)
    mobile: str | None = Field(default=None, min_length=1, max_length=20)
    building: str | None = Field(default=None, max_length=40)
    unit: str | None = Field(default=None, max_length=40)
    household_id: str | None = Field(default=None, max_length=40)
    hukou: Literal["local", "non_local"] | None = None
    job_preferences: JobPreferences | None = None


class SkillsUpdate(Command):
    skills: list[Skill] = Field(max_length=MAX_SKILLS)


class AvailabilityUpdate(Command):
    availability: list[Window] = Field(max_length=MAX_WINDOWS)


class TagsUpdate(Command):
    tags: list[Tag] = Field(max_length=7)


class ConsentUpdate(Command):
    employment_matching: bool | None = None
    share_with_partners: bool | None = None


class EmploymentUpdate(Command):
    employment_status: EmploymentStatus
    reason: str = Field(default="updated by staff", max_length=200)


class Move(Command):
    grid_code: AreaCode
    building: str = Field(max_length=40)
    unit: str = Field(max_length=40)


class Transfer(Move):
    community_code: AreaCode


class MoveOut(Command):
    reason: str = Field(default="moved out", max_length=200)


class PartnerCreate(Command):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["employer", "piecework_processor", "training_school", "social_organisation"]
    credit_code: str = Field(min_length=1, max_length=30, description="Unified social credit code (GB 32100)")
    area_code: AreaCode


class Suspend(Command):
    reason: str = Field(min_length=1, max_length=200)


class StaffCreate(Command):
    username: str = Field(min_length=3, max_length=40)
    password: str = Field(min_length=10, max_length=200)
    role: StaffRole
    areas: list[AreaCode] = Field(default_factory=list, max_length=50)
