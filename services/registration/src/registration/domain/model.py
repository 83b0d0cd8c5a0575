"""Registration's aggregates: areas, residents, partners and staff.

Each method checks the rule it owns and records an event; `apply` is the only
place state changes, so replaying a stream gives the same object back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from doorstep_contracts.registration import (
    AreaCreated,
    PartnerApiKeyRotated,
    PartnerApproved,
    PartnerRegistered,
    PartnerSuspended,
    ResidentAvailabilityUpdated,
    ResidentConsentChanged,
    ResidentEmploymentStatusChanged,
    ResidentErased,
    ResidentMovedOut,
    ResidentMovedWithinCommunity,
    ResidentProfileUpdated,
    ResidentRegistered,
    ResidentSkillsUpdated,
    ResidentTagsUpdated,
    ResidentTransferred,
    ResidentVerifiedSkillAdded,
    StaffCreated,
    StaffDisabled,
    StaffEnabled,
    StaffPasswordChanged,
)
from doorstep_shared.areas import LEVELS, check_code
from doorstep_shared.domain import Aggregate, Conflict, Event, InvalidInput, require_state

from registration.domain.enums import (
    AreaLevel,
    EmploymentStatus,
    Hukou,
    PartnerKind,
    PartnerStatus,
    ResidentStatus,
    Sex,
    StaffRole,
    StaffStatus,
    Tag,
)
from registration.domain.profile import check_availability, check_preferences, check_skills, check_tags

EMPLOYMENT_STATUSES = frozenset(EmploymentStatus)
HUKOU = frozenset(Hukou)
PARTNER_KINDS = frozenset(PartnerKind)
STAFF_ROLES = frozenset(StaffRole)


class Area(Aggregate):
    stream_type: ClassVar[str] = "areas"
    immutable: ClassVar[bool] = True  # AreaCreated is an area's only event

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.level = ""
        self.name = ""
        self.parent_code: str | None = None

    @classmethod
    def create(cls, code: str, name: str, level: AreaLevel, parent: Area | None) -> Area:
        """A new area: its code is its level's length and its parent's code plus one segment."""
        if level not in LEVELS:
            raise InvalidInput(f"level must be one of {', '.join(LEVELS)}", field="level")
        if not name.strip():
            raise InvalidInput("name must not be empty", field="name")
        check_code(code, level, parent.id if parent else None, parent.level if parent else None)
        area = cls(code)
        area._record(AreaCreated(code, name.strip(), level, parent.id if parent else None))
        return area

    def apply(self, event: Event) -> None:
        if isinstance(event, AreaCreated):
            self.level, self.name, self.parent_code = event.level, event.name, event.parent_code


class Resident(Aggregate):
    stream_type: ClassVar[str] = "residents"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status: ResidentStatus = ResidentStatus.ACTIVE
        self.community_code = ""
        self.grid_code = ""
        self.building = ""
        self.unit = ""
        self.id_hash = ""
        self.skills: list[str] = []
        self.verified_skills: list[str] = []
        self.tags: list[str] = []
        self.employment_status: str = EmploymentStatus.UNEMPLOYED
        self.consent: dict[str, bool] = {}

    @classmethod
    def register(
        cls,
        resident_id: str,
        *,
        community_code: str,
        grid_code: str,
        building: str,
        unit: str,
        hukou: Hukou,
        sex: Sex,
        birth_year: int,
        employment_status: EmploymentStatus,
        consent: Mapping[str, bool],
        pii: Mapping[str, str],
        id_hash: str,
        household_id: str | None = None,
        tags: Iterable[Tag] = (),
        skills: Iterable[str] = (),
        availability: Iterable[Mapping[str, Any]] = (),
        job_preferences: Mapping[str, Any] | None = None,
    ) -> Resident:
        """A newly registered resident: `pii` is already sealed, `id_hash` already claimed or checked."""
        if hukou not in HUKOU:
            raise InvalidInput("hukou must be local or non_local", field="hukou")
        if employment_status not in EMPLOYMENT_STATUSES:
            raise InvalidInput("unknown employment status", field="employment_status")
        if not grid_code.startswith(community_code):
            raise InvalidInput("the grid is not in this community", field="grid_code")
        r = cls(resident_id)
        r._record(
            ResidentRegistered(
                resident_id=resident_id,
                community_code=community_code,
                grid_code=grid_code,
                building=building,
                unit=unit,
                household_id=household_id,
                hukou=hukou,
                sex=sex,
                birth_year=birth_year,
                tags=check_tags(tags),
                skills=check_skills(skills),
                availability=check_availability(availability),
                job_preferences=check_preferences(job_preferences or {}),
                employment_status=employment_status,
                consent=dict(consent),
                pii=dict(pii),
                id_hash=id_hash,
            )
        )
        return r

    def _active(self, action: str) -> None:
        require_state(self.status, {ResidentStatus.ACTIVE}, action)

    def update_profile(
        self,
        *,
        building: str | None = None,
        unit: str | None = None,
        household_id: str | None = None,
        hukou: Hukou | None = None,
        job_preferences: Mapping[str, Any] | None = None,
        pii: Mapping[str, str] | None = None,
    ) -> None:
        """Change the given fields (None: unchanged); `pii` holds re-sealed personal fields."""
        self._active("update the profile")
        if hukou is not None and hukou not in HUKOU:
            raise InvalidInput("hukou must be local or non_local", field="hukou")
        self._record(
            ResidentProfileUpdated(
                resident_id=self.id,
                building=building,
                unit=unit,
                household_id=household_id,
                hukou=hukou,
                job_preferences=check_preferences(job_preferences) if job_preferences is not None else None,
                pii=dict(pii or {}),
            )
        )

    def update_skills(self, skills: Iterable[str]) -> None:
        self._active("update skills")
        self._record(ResidentSkillsUpdated(self.id, check_skills(skills)))

    def add_verified_skill(self, skill: str, source: str, certificate_no: str | None) -> bool:
        """Returns False (nothing recorded) when the skill is already verified or the resident left."""
        if self.status != ResidentStatus.ACTIVE or skill.strip().lower() in self.verified_skills:
            return False
        self._record(ResidentVerifiedSkillAdded(self.id, skill.strip().lower(), source, certificate_no))
        return True

    def update_availability(self, windows: Iterable[Mapping[str, Any]]) -> None:
        self._active("update availability")
        self._record(ResidentAvailabilityUpdated(self.id, check_availability(windows)))

    def update_tags(self, tags: Iterable[Tag]) -> None:
        self._active("update tags")
        self._record(ResidentTagsUpdated(self.id, check_tags(tags)))

    def change_consent(self, consent: Mapping[str, bool]) -> None:
        self._active("change consent")
        self._record(ResidentConsentChanged(self.id, {**self.consent, **consent}))

    def change_employment_status(self, status: EmploymentStatus, reason: str, job_id: str | None = None) -> bool:
        if status not in EMPLOYMENT_STATUSES:
            raise InvalidInput("unknown employment status", field="employment_status")
        self._active("change employment status")
        if status == self.employment_status and job_id is None:
            return False
        self._record(ResidentEmploymentStatusChanged(self.id, status, reason, job_id))
        return True

    def move_within_community(self, grid_code: str, building: str, unit: str) -> None:
        self._active("move")
        if not grid_code.startswith(self.community_code):
            raise InvalidInput("use a transfer to move to another community", field="grid_code")
        self._record(ResidentMovedWithinCommunity(self.id, grid_code, building, unit))

    def transfer(self, community_code: str, grid_code: str, building: str, unit: str) -> None:
        self._active("transfer")
        if community_code == self.community_code:
            raise InvalidInput("already in this community; use a move", field="community_code")
        if not grid_code.startswith(community_code):
            raise InvalidInput("the grid is not in the new community", field="grid_code")
        self._record(ResidentTransferred(self.id, self.community_code, community_code, grid_code, building, unit))

    def move_out(self, reason: str) -> None:
        self._active("move out")
        self._record(ResidentMovedOut(self.id, reason))

    def erase(self) -> None:
        if self.status == ResidentStatus.ERASED:
            raise Conflict("resident already erased", field="status")
        self._record(ResidentErased(self.id))

    def apply(self, event: Event) -> None:
        match event:
            case ResidentRegistered():
                self.community_code, self.grid_code = event.community_code, event.grid_code
                self.building, self.unit, self.id_hash = event.building, event.unit, event.id_hash
                self.skills, self.tags = list(event.skills), list(event.tags)
                self.employment_status, self.consent = event.employment_status, dict(event.consent)
            case ResidentSkillsUpdated():
                self.skills = list(event.skills)
            case ResidentVerifiedSkillAdded():
                self.verified_skills.append(event.skill)
            case ResidentTagsUpdated():
                self.tags = list(event.tags)
            case ResidentConsentChanged():
                self.consent = dict(event.consent)
            case ResidentEmploymentStatusChanged():
                self.employment_status = event.employment_status
            case ResidentMovedWithinCommunity():
                self.grid_code, self.building, self.unit = (
                    event.grid_code,
                    event.building,
                    event.unit,
                )
            case ResidentTransferred():
                self.community_code, self.grid_code = event.community_code, event.grid_code
                self.building, self.unit = event.building, event.unit
            case ResidentMovedOut():
                self.status = ResidentStatus.MOVED_OUT
            case ResidentErased():
                self.status = ResidentStatus.ERASED


class Partner(Aggregate):
    stream_type: ClassVar[str] = "partners"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status: PartnerStatus = PartnerStatus.PENDING
        self.kind = ""
        self.area_code = ""

    @classmethod
    def register(cls, partner_id: str, name: str, kind: PartnerKind, credit_code: str, area_code: str) -> Partner:
        if kind not in PARTNER_KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(sorted(PARTNER_KINDS))}", field="kind")
        if not name.strip():
            raise InvalidInput("name must not be empty", field="name")
        p = cls(partner_id)
        p._record(PartnerRegistered(partner_id, name.strip(), kind, credit_code, area_code))
        return p

    def approve(self, api_key_hash: str) -> None:
        require_state(self.status, {PartnerStatus.PENDING, PartnerStatus.SUSPENDED}, "approve")
        self._record(PartnerApproved(self.id, api_key_hash))

    def rotate_key(self, api_key_hash: str) -> None:
        require_state(self.status, {PartnerStatus.APPROVED}, "rotate the API key")
        self._record(PartnerApiKeyRotated(self.id, api_key_hash))

    def suspend(self, reason: str) -> None:
        require_state(self.status, {PartnerStatus.APPROVED}, "suspend")
        self._record(PartnerSuspended(self.id, reason))

    def apply(self, event: Event) -> None:
        match event:
            case PartnerRegistered():
                self.kind, self.area_code = event.kind, event.area_code
            case PartnerApproved():
                self.status = PartnerStatus.APPROVED
            case PartnerSuspended():
                self.status = PartnerStatus.SUSPENDED


class Staff(Aggregate):
    stream_type: ClassVar[str] = "staff"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.username = ""
        self.role = ""
        self.areas: list[str] = []
        self.status: StaffStatus = StaffStatus.ACTIVE

    @classmethod
    def create(cls, staff_id: str, username: str, role: StaffRole, areas: Sequence[str]) -> Staff:
        if role not in STAFF_ROLES:
            raise InvalidInput(f"role must be one of {', '.join(sorted(STAFF_ROLES))}", field="role")
        if not re.match(r"^[a-z0-9_.-]{3,40}$", username):
            raise InvalidInput("username: 3-40 lowercase letters, digits, '_', '.', '-'", field="username")
        if role != StaffRole.CITY_ADMIN and not areas:
            raise InvalidInput("staff act in at least one area", field="areas")
        s = cls(staff_id)
        s._record(StaffCreated(staff_id, username, role, sorted(set(areas))))
        return s

    def disable(self, reason: str) -> None:
        require_state(self.status, {StaffStatus.ACTIVE}, "disable")
        self._record(StaffDisabled(self.id, reason))

    def enable(self) -> None:
        require_state(self.status, {StaffStatus.DISABLED}, "enable")
        self._record(StaffEnabled(self.id))

    def password_changed(self, *, by_admin: bool) -> None:
        self._record(StaffPasswordChanged(self.id, by_admin))

    def apply(self, event: Event) -> None:
        match event:
            case StaffCreated():
                self.username, self.role, self.areas = event.username, event.role, list(event.areas)
            case StaffDisabled():
                self.status = StaffStatus.DISABLED
            case StaffEnabled():
                self.status = StaffStatus.ACTIVE
