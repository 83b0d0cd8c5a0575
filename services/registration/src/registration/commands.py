"""Registration's commands: one class per action, which is also its request body.

Each is a `doorstep_shared.commands.Command`: frozen, unknown fields refused,
text bounded and free of control characters. The limits here are what a
resident's record needs (and what the read models' columns hold); the allowed
values are the domain's enumerations. The rules that need state (the area
exists, the ID number is unique, the caller may act there) are the handlers'.
A field typed `Target` names the resource acted on and comes from the path.
"""

from __future__ import annotations

from typing import Annotated

from doorstep_shared.commands import Command, Target
from doorstep_shared.inputs import AreaCode  # a whole code of one of the levels
from doorstep_shared.inputs import Command as Nested  # the base of a command's nested parts
from pydantic import Field, StringConstraints

from registration.domain.enums import (
    AreaLevel,
    EmploymentStatus,
    Hukou,
    JobType,
    PartnerKind,
    PayUnit,
    Place,
    StaffRole,
    Tag,
    Weekday,
)

Skill = Annotated[str, StringConstraints(max_length=50)]
Building = Annotated[str, Field(max_length=40)]
Reason = Annotated[str, Field(max_length=200)]
MAX_SKILLS = 30
MAX_WINDOWS = 21  # three a day
HHMM = r"^\d\d:\d\d$"


# areas -------------------------------------------------------------------------------------


class CreateArea(Command):
    """`code` is `parent_code` plus one segment: city 4 digits, district 6, street 9, community 12, grid 15."""

    # digits of any length here: the area's rule says which length its level needs
    code: str = Field(min_length=1, max_length=32, pattern=r"^[0-9]+$", examples=["330102001001"])
    name: str = Field(min_length=1, max_length=100)
    level: AreaLevel
    parent_code: AreaCode | None = None


# residents: what they register with ---------------------------------------------------------


class Window(Nested):
    days: list[Weekday] = Field(min_length=1, max_length=7)
    start: str = Field(pattern=HHMM, examples=["08:30"])
    end: str = Field(pattern=HHMM, examples=["16:30"])
    place: Place = Place.ANY


class JobPreferences(Nested):
    types: list[JobType] = Field(default_factory=list, max_length=6)
    min_pay_fen: int | None = Field(default=None, ge=0, le=100_000_000)
    pay_unit: PayUnit | None = None


class Consent(Nested):
    employment_matching: bool = False
    share_with_partners: bool = False


class RegisterResident(Command):
    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=1, max_length=30, description="18-character resident ID (GB 11643)")
    mobile: str = Field(min_length=1, max_length=20)
    grid_code: AreaCode
    building: Building
    unit: Building
    hukou: Hukou
    household_id: str | None = Field(default=None, max_length=40)
    tags: list[Tag] = Field(default_factory=list, max_length=len(Tag))
    skills: list[Skill] = Field(default_factory=list, max_length=MAX_SKILLS)
    availability: list[Window] = Field(default_factory=list, max_length=MAX_WINDOWS)
    job_preferences: JobPreferences = JobPreferences()
    employment_status: EmploymentStatus = EmploymentStatus.UNEMPLOYED
    consent: Consent = Consent()


# residents: changes, each naming the resident from the path ---------------------------------


class UpdateProfile(Command):
    """Fields left out (or null) stay as they are."""

    resident_id: Target
    name: str | None = Field(default=None, min_length=1, max_length=50)
    mobile: str | None = Field(default=None, min_length=1, max_length=20)
    building: Building | None = None
    unit: Building | None = None
    household_id: str | None = Field(default=None, max_length=40)
    hukou: Hukou | None = None
    job_preferences: JobPreferences | None = None


class UpdateSkills(Command):
    resident_id: Target
    skills: list[Skill] = Field(max_length=MAX_SKILLS)


class UpdateAvailability(Command):
    resident_id: Target
    availability: list[Window] = Field(max_length=MAX_WINDOWS)


class UpdateTags(Command):
    resident_id: Target
    tags: list[Tag] = Field(max_length=len(Tag))


class ChangeConsent(Command):
    """Consent left out (or null) stays as it was."""

    resident_id: Target
    employment_matching: bool | None = None
    share_with_partners: bool | None = None


class ChangeEmploymentStatus(Command):
    resident_id: Target
    employment_status: EmploymentStatus
    reason: Reason = "updated by staff"


class MoveWithinCommunity(Command):
    resident_id: Target
    grid_code: AreaCode
    building: Building
    unit: Building


class TransferResident(Command):
    resident_id: Target
    grid_code: AreaCode
    building: Building
    unit: Building
    community_code: AreaCode


class MoveOut(Command):
    resident_id: Target
    reason: Reason = "moved out"


class EraseResident(Command):
    """Destroys the resident's data key: every copy of their personal fields becomes unreadable."""

    resident_id: Target


# residents: what other services' facts change (given by the service itself) ------------------


class RecordHire(Command):
    resident_id: str
    job_id: str


class RecordVerifiedSkill(Command):
    resident_id: str
    skill: str
    certificate_no: str | None = None


# partners ------------------------------------------------------------------------------------


class RegisterPartner(Command):
    name: str = Field(min_length=1, max_length=200)
    kind: PartnerKind
    credit_code: str = Field(min_length=1, max_length=30, description="Unified social credit code (GB 32100)")
    area_code: AreaCode


class ApprovePartner(Command):
    """Answers the partner's API key, shown once."""

    partner_id: Target


class RotatePartnerKey(Command):
    """Answers a new API key, shown once; the old one stops working."""

    partner_id: Target


class SuspendPartner(Command):
    partner_id: Target
    reason: str = Field(min_length=1, max_length=200)


# staff ---------------------------------------------------------------------------------------


class CreateStaff(Command):
    username: str = Field(min_length=3, max_length=40)
    # never part of the command's record (nor of its idempotency fingerprint)
    password: str = Field(min_length=10, max_length=200, exclude=True, repr=False)
    role: StaffRole
    areas: list[AreaCode] = Field(default_factory=list, max_length=50)


class DisableStaff(Command):
    """The account can no longer sign in; tokens already issued work until they expire."""

    staff_id: Target
    reason: Reason = ""


class EnableStaff(Command):
    staff_id: Target


Password = Annotated[str, Field(min_length=10, max_length=200, exclude=True, repr=False)]


class ChangeOwnPassword(Command):
    """The caller's own password; the current one is needed."""

    current_password: str = Field(min_length=1, max_length=200, exclude=True, repr=False)
    new_password: Password


class ResetStaffPassword(Command):
    """Set by an admin above the account in its areas; ends the username's lock-out."""

    staff_id: Target
    new_password: Password
