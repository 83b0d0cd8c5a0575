"""Registration's facts. Their shapes are a contract: see docs/events.md.

Personal fields travel only as ciphertext in `pii` (sealed with the resident's
own data key), so Kafka and every downstream store hold nothing readable once
that key is destroyed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from doorstep_shared.domain import Event, EventRegistry

registry = EventRegistry()


@registry.register
@dataclass(frozen=True)
class AreaCreated(Event):
    code: str
    name: str
    level: str
    parent_code: str | None


@registry.register
@dataclass(frozen=True)
class ResidentRegistered(Event):
    resident_id: str
    community_code: str
    grid_code: str
    building: str
    unit: str
    household_id: str | None
    hukou: str
    sex: str
    birth_year: int
    tags: list[str]
    skills: list[str]
    availability: list[dict[str, Any]]
    job_preferences: dict[str, Any]
    employment_status: str
    consent: dict[str, bool]
    pii: dict[str, str]
    id_hash: str


@registry.register
@dataclass(frozen=True)
class ResidentProfileUpdated(Event):
    resident_id: str
    building: str | None = None
    unit: str | None = None
    household_id: str | None = None
    hukou: str | None = None
    job_preferences: dict[str, Any] | None = None
    pii: dict[str, str] = field(default_factory=dict)


@registry.register
@dataclass(frozen=True)
class ResidentSkillsUpdated(Event):
    resident_id: str
    skills: list[str]


@registry.register
@dataclass(frozen=True)
class ResidentVerifiedSkillAdded(Event):
    resident_id: str
    skill: str
    source: str
    certificate_no: str | None = None


@registry.register
@dataclass(frozen=True)
class ResidentAvailabilityUpdated(Event):
    resident_id: str
    availability: list[dict[str, Any]]


@registry.register
@dataclass(frozen=True)
class ResidentTagsUpdated(Event):
    resident_id: str
    tags: list[str]


@registry.register
@dataclass(frozen=True)
class ResidentConsentChanged(Event):
    resident_id: str
    consent: dict[str, bool]


@registry.register
@dataclass(frozen=True)
class ResidentEmploymentStatusChanged(Event):
    resident_id: str
    employment_status: str
    reason: str
    job_id: str | None = None


@registry.register
@dataclass(frozen=True)
class ResidentMovedWithinCommunity(Event):
    resident_id: str
    grid_code: str
    building: str
    unit: str


@registry.register
@dataclass(frozen=True)
class ResidentTransferred(Event):
    resident_id: str
    from_community_code: str
    community_code: str
    grid_code: str
    building: str
    unit: str


@registry.register
@dataclass(frozen=True)
class ResidentMovedOut(Event):
    resident_id: str
    reason: str


@registry.register
@dataclass(frozen=True)
class ResidentErased(Event):
    resident_id: str


@registry.register
@dataclass(frozen=True)
class PartnerRegistered(Event):
    partner_id: str
    name: str
    kind: str
    credit_code: str
    area_code: str


@registry.register
@dataclass(frozen=True)
class PartnerApproved(Event):
    partner_id: str
    api_key_hash: str


@registry.register
@dataclass(frozen=True)
class PartnerApiKeyRotated(Event):
    partner_id: str
    api_key_hash: str


@registry.register
@dataclass(frozen=True)
class PartnerSuspended(Event):
    partner_id: str
    reason: str


@registry.register
@dataclass(frozen=True)
class StaffCreated(Event):
    staff_id: str
    username: str
    role: str
    areas: list[str]


@registry.register
@dataclass(frozen=True)
class StaffDisabled(Event):
    """The account can no longer sign in; tokens already issued work until they expire."""

    staff_id: str
    reason: str = ""


@registry.register
@dataclass(frozen=True)
class StaffEnabled(Event):
    staff_id: str


@registry.register
@dataclass(frozen=True)
class StaffPasswordChanged(Event):
    """The password changed (never the password or its hash): by its owner, or reset by an admin."""

    staff_id: str
    by_admin: bool


RESIDENT_EVENTS: list[type[Event]] = [
    ResidentRegistered,
    ResidentProfileUpdated,
    ResidentSkillsUpdated,
    ResidentVerifiedSkillAdded,
    ResidentAvailabilityUpdated,
    ResidentTagsUpdated,
    ResidentConsentChanged,
    ResidentEmploymentStatusChanged,
    ResidentMovedWithinCommunity,
    ResidentTransferred,
    ResidentMovedOut,
    ResidentErased,
]
PARTNER_EVENTS: list[type[Event]] = [
    PartnerRegistered,
    PartnerApproved,
    PartnerApiKeyRotated,
    PartnerSuspended,
]

SERVICE = "registration"
# topic `registration.<aggregate>` -> the events published on it
TOPICS: dict[str, list[type[Event]]] = {
    "areas": [AreaCreated],
    "residents": RESIDENT_EVENTS,
    "partners": PARTNER_EVENTS,
    "staff": [StaffCreated, StaffDisabled, StaffEnabled, StaffPasswordChanged],
}
