"""Registration's aggregates: areas, residents, partners and staff.

Each method checks the rule it owns and records an event; `apply` is the only
place state changes, so replaying a stream gives the same object back.
"""

from __future__ import annotations

import re
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
)
from doorstep_shared.domain import Aggregate, Conflict, Event, InvalidInput, require_state

LEVELS = ("city", "district", "street", "community", "grid")
TAGS = frozenset(
    {
        "elderly",
        "living_alone",
        "disabled",
        "unemployed",
        "stay_at_home_parent",
        "low_income",
        "veteran",
    }
)
EMPLOYMENT_STATUSES = frozenset({"employed", "unemployed", "flexible", "retired", "student", "not_in_labour_force"})
HUKOU = frozenset({"local", "non_local"})
JOB_TYPES = frozenset({"full_time", "part_time", "piecework", "odd_job", "public_welfare", "home_based"})
PAY_UNITS = frozenset({"hour", "day", "month", "piece"})
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PLACES = frozenset({"home", "workshop", "any"})
PARTNER_KINDS = frozenset({"employer", "piecework_processor", "training_school", "social_organisation"})
STAFF_ROLES = frozenset(
    {
        "city_admin",
        "district_admin",
        "street_admin",
        "community_staff",
        "grid_worker",
        "team_leader",
    }
)
_CODE = re.compile(r"^[0-9A-Za-z]{1,32}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Area(Aggregate):
    stream_type: ClassVar[str] = "areas"
    immutable: ClassVar[bool] = True  # AreaCreated is an area's only event

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.level = ""
        self.name = ""
        self.parent_code: str | None = None

    @classmethod
    def create(cls, code: str, name: str, level: str, parent: Area | None) -> Area:
        if not _CODE.match(code):
            raise InvalidInput("area code must be 1-32 letters or digits", field="code")
        if level not in LEVELS:
            raise InvalidInput(f"level must be one of {', '.join(LEVELS)}", field="level")
        if not name.strip():
            raise InvalidInput("name must not be empty", field="name")
        if level == "city":
            if parent is not None:
                raise InvalidInput("a city has no parent", field="parent_code")
        else:
            if parent is None:
                raise InvalidInput(f"a {level} needs a parent area", field="parent_code")
            expected = LEVELS[LEVELS.index(level) - 1]
            if parent.level != expected:
                raise InvalidInput(f"a {level} belongs to a {expected}, not a {parent.level}", field="parent_code")
            if not (code.startswith(parent.id) and len(code) > len(parent.id)):
                raise InvalidInput(f"code must extend its parent's code {parent.id}", field="code")
        area = cls(code)
        area._record(AreaCreated(code, name.strip(), level, parent.id if parent else None))
        return area

    def apply(self, event: Event) -> None:
        if isinstance(event, AreaCreated):
            self.level, self.name, self.parent_code = event.level, event.name, event.parent_code


def check_tags(tags: list[str]) -> list[str]:
    unknown = sorted(set(tags) - TAGS)
    if unknown:
        raise InvalidInput(f"unknown tags: {', '.join(unknown)}", field="tags")
    return sorted(set(tags))


def check_skills(skills: list[str]) -> list[str]:
    cleaned = sorted({s.strip().lower() for s in skills if s.strip()})
    if any(len(s) > 50 for s in cleaned):
        raise InvalidInput("a skill is at most 50 characters", field="skills")
    return cleaned


def check_availability(windows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, w in enumerate(windows):
        days = w.get("days") or []
        if not days or any(d not in DAYS for d in days):
            raise InvalidInput(f"days must be among {', '.join(DAYS)}", field=f"availability.{i}.days")
        start, end = w.get("start", ""), w.get("end", "")
        if not _TIME.match(start):
            raise InvalidInput("start must be HH:MM", field=f"availability.{i}.start")
        if not _TIME.match(end):
            raise InvalidInput("end must be HH:MM", field=f"availability.{i}.end")
        if end <= start:
            raise InvalidInput("a window must end after it starts", field=f"availability.{i}.end")
        place = w.get("place", "any")
        if place not in PLACES:
            raise InvalidInput(f"place must be one of {', '.join(sorted(PLACES))}", field=f"availability.{i}.place")
        out.append({"days": [d for d in DAYS if d in days], "start": start, "end": end, "place": place})
    return out


def check_preferences(prefs: dict[str, Any]) -> dict[str, Any]:
    types = prefs.get("types", [])
    unknown = sorted(set(types) - JOB_TYPES)
    if unknown:
        raise InvalidInput(f"unknown job types: {', '.join(unknown)}", field="job_preferences.types")
    unit = prefs.get("pay_unit")
    if unit is not None and unit not in PAY_UNITS:
        raise InvalidInput(
            f"pay_unit must be one of {', '.join(sorted(PAY_UNITS))}",
            field="job_preferences.pay_unit",
        )
    min_pay = prefs.get("min_pay_fen")
    if min_pay is not None and (not isinstance(min_pay, int) or min_pay < 0):
        raise InvalidInput("min_pay_fen must be a non-negative integer", field="job_preferences.min_pay_fen")
    return {"types": sorted(set(types)), "min_pay_fen": min_pay, "pay_unit": unit}


class Resident(Aggregate):
    stream_type: ClassVar[str] = "residents"
    ACTIVE = "active"
    MOVED_OUT = "moved_out"
    ERASED = "erased"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = self.ACTIVE
        self.community_code = ""
        self.grid_code = ""
        self.building = ""
        self.unit = ""
        self.id_hash = ""
        self.skills: list[str] = []
        self.verified_skills: list[str] = []
        self.tags: list[str] = []
        self.employment_status = "unemployed"
        self.consent: dict[str, bool] = {}

    @classmethod
    def register(cls, resident_id: str, **facts: Any) -> Resident:
        if facts["hukou"] not in HUKOU:
            raise InvalidInput("hukou must be local or non_local", field="hukou")
        if facts["employment_status"] not in EMPLOYMENT_STATUSES:
            raise InvalidInput("unknown employment status", field="employment_status")
        if not facts["grid_code"].startswith(facts["community_code"]):
            raise InvalidInput("the grid is not in this community", field="grid_code")
        r = cls(resident_id)
        r._record(
            ResidentRegistered(
                resident_id=resident_id,
                community_code=facts["community_code"],
                grid_code=facts["grid_code"],
                building=facts["building"],
                unit=facts["unit"],
                household_id=facts.get("household_id"),
                hukou=facts["hukou"],
                sex=facts["sex"],
                birth_year=facts["birth_year"],
                tags=check_tags(facts.get("tags", [])),
                skills=check_skills(facts.get("skills", [])),
                availability=check_availability(facts.get("availability", [])),
                job_preferences=check_preferences(facts.get("job_preferences", {})),
                employment_status=facts["employment_status"],
                consent=dict(facts["consent"]),
                pii=dict(facts["pii"]),
                id_hash=facts["id_hash"],
            )
        )
        return r

    def _active(self, action: str) -> None:
        require_state(self.status, {self.ACTIVE}, action)

    def update_profile(self, **changes: Any) -> None:
        self._active("update the profile")
        if changes.get("hukou") is not None and changes["hukou"] not in HUKOU:
            raise InvalidInput("hukou must be local or non_local", field="hukou")
        if changes.get("job_preferences") is not None:
            changes["job_preferences"] = check_preferences(changes["job_preferences"])
        self._record(ResidentProfileUpdated(resident_id=self.id, **changes))

    def update_skills(self, skills: list[str]) -> None:
        self._active("update skills")
        self._record(ResidentSkillsUpdated(self.id, check_skills(skills)))

    def add_verified_skill(self, skill: str, source: str, certificate_no: str | None) -> bool:
        """Returns False (nothing recorded) when the skill is already verified or the resident left."""
        if self.status != self.ACTIVE or skill.strip().lower() in self.verified_skills:
            return False
        self._record(ResidentVerifiedSkillAdded(self.id, skill.strip().lower(), source, certificate_no))
        return True

    def update_availability(self, windows: list[dict[str, Any]]) -> None:
        self._active("update availability")
        self._record(ResidentAvailabilityUpdated(self.id, check_availability(windows)))

    def update_tags(self, tags: list[str]) -> None:
        self._active("update tags")
        self._record(ResidentTagsUpdated(self.id, check_tags(tags)))

    def change_consent(self, consent: dict[str, bool]) -> None:
        self._active("change consent")
        self._record(ResidentConsentChanged(self.id, {**self.consent, **consent}))

    def change_employment_status(self, status: str, reason: str, job_id: str | None = None) -> bool:
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
        if self.status == self.ERASED:
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
                self.status = self.MOVED_OUT
            case ResidentErased():
                self.status = self.ERASED


class Partner(Aggregate):
    stream_type: ClassVar[str] = "partners"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = "pending"
        self.kind = ""
        self.area_code = ""

    @classmethod
    def register(cls, partner_id: str, name: str, kind: str, credit_code: str, area_code: str) -> Partner:
        if kind not in PARTNER_KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(sorted(PARTNER_KINDS))}", field="kind")
        if not name.strip():
            raise InvalidInput("name must not be empty", field="name")
        p = cls(partner_id)
        p._record(PartnerRegistered(partner_id, name.strip(), kind, credit_code, area_code))
        return p

    def approve(self, api_key_hash: str) -> None:
        require_state(self.status, {"pending", "suspended"}, "approve")
        self._record(PartnerApproved(self.id, api_key_hash))

    def rotate_key(self, api_key_hash: str) -> None:
        require_state(self.status, {"approved"}, "rotate the API key")
        self._record(PartnerApiKeyRotated(self.id, api_key_hash))

    def suspend(self, reason: str) -> None:
        require_state(self.status, {"approved"}, "suspend")
        self._record(PartnerSuspended(self.id, reason))

    def apply(self, event: Event) -> None:
        match event:
            case PartnerRegistered():
                self.kind, self.area_code = event.kind, event.area_code
            case PartnerApproved():
                self.status = "approved"
            case PartnerSuspended():
                self.status = "suspended"


class Staff(Aggregate):
    stream_type: ClassVar[str] = "staff"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.username = ""
        self.role = ""
        self.areas: list[str] = []

    @classmethod
    def create(cls, staff_id: str, username: str, role: str, areas: list[str]) -> Staff:
        if role not in STAFF_ROLES:
            raise InvalidInput(f"role must be one of {', '.join(sorted(STAFF_ROLES))}", field="role")
        if not re.match(r"^[a-z0-9_.-]{3,40}$", username):
            raise InvalidInput("username: 3-40 lowercase letters, digits, '_', '.', '-'", field="username")
        if role != "city_admin" and not areas:
            raise InvalidInput("staff act in at least one area", field="areas")
        s = cls(staff_id)
        s._record(StaffCreated(staff_id, username, role, sorted(set(areas))))
        return s

    def apply(self, event: Event) -> None:
        if isinstance(event, StaffCreated):
            self.username, self.role, self.areas = event.username, event.role, list(event.areas)
