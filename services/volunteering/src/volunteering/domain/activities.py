"""An activity (a shift): a time window, a place, a capacity and its volunteers.

Each volunteer's participation follows CiviVolunteer's assignment statuses:
waiting (on the waiting list) → scheduled → checked_in → completed, or
no_show / cancelled. Minutes are kept apart: `scheduled_minutes` (the window a
volunteer signed up for), `completed_minutes` (check-in to check-out) and
`verified_minutes` (what the team leader confirmed; only these reach the ledger).

The waiting list is a queue: whoever signed up first is promoted first when a
place frees up, whether by a cancellation or a larger capacity.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from doorstep_contracts.volunteering import (
    ActivityCancelled,
    ActivityCapacityChanged,
    ActivityScheduled,
    ParticipationVerified,
    SignUpCancelled,
    VolunteerCheckedIn,
    VolunteerCheckedOut,
    VolunteerMarkedNoShow,
    VolunteerPromoted,
    VolunteerSignedUp,
)
from doorstep_shared.domain import Aggregate, Conflict, Event, Forbidden, InvalidInput

MAX_CAPACITY = 10_000
MAX_DURATION = timedelta(hours=24)
CHECK_IN_OPENS = timedelta(minutes=30)  # volunteers may be checked in this long before the start

# a volunteer's place on a shift; the constants below name the same values, in this order
ParticipationStatus = Literal["waiting", "scheduled", "checked_in", "completed", "no_show", "cancelled"]
WAITING, SCHEDULED, CHECKED_IN, COMPLETED, NO_SHOW, CANCELLED = get_args(ParticipationStatus)
HOLDS_A_PLACE = frozenset({SCHEDULED, CHECKED_IN, COMPLETED, NO_SHOW})
ACTIVE = frozenset({WAITING, SCHEDULED, CHECKED_IN, COMPLETED})


@dataclasses.dataclass
class Participation:
    resident_id: str
    status: str
    scheduled_minutes: int = 0
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None
    completed_minutes: int = 0
    verified_minutes: int | None = None
    verified_by: str | None = None


def _minutes(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


class Activity(Aggregate):
    stream_type = "activities"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.team_id = ""
        self.community_code = ""
        self.title = ""
        self.starts_at = datetime.min
        self.ends_at = datetime.min
        self.capacity = 0
        self.cancelled = False
        self.participants: dict[str, Participation] = {}
        self.waiting: list[str] = []

    # scheduling --------------------------------------------------------------------

    @classmethod
    def schedule(
        cls,
        activity_id: str,
        *,
        team_id: str,
        community_code: str,
        title: str,
        place: str,
        starts_at: datetime,
        ends_at: datetime,
        capacity: int,
        skills_wanted: tuple[str, ...] = (),
        description: str = "",
        now: datetime,
    ) -> Activity:
        if not title.strip():
            raise InvalidInput("an activity needs a title", field="title")
        if not place.strip():
            raise InvalidInput("an activity needs a place", field="place")
        if starts_at <= now:
            raise InvalidInput("an activity must start in the future", field="starts_at")
        if ends_at <= starts_at:
            raise InvalidInput("an activity must end after it starts", field="ends_at")
        if ends_at - starts_at > MAX_DURATION:
            raise InvalidInput("an activity lasts at most 24 hours", field="ends_at")
        _check_capacity(capacity)
        activity = cls(activity_id)
        activity._record(
            ActivityScheduled(
                activity_id,
                team_id,
                community_code,
                title.strip(),
                place.strip(),
                starts_at,
                ends_at,
                capacity,
                tuple(skills_wanted),
                description,
            )
        )
        return activity

    @property
    def scheduled_minutes(self) -> int:
        return _minutes(self.starts_at, self.ends_at)

    @property
    def places_taken(self) -> int:
        return sum(1 for p in self.participants.values() if p.status in HOLDS_A_PLACE)

    def change_capacity(self, capacity: int, *, now: datetime) -> None:
        self._require_open_before_start(now, "change the capacity")
        _check_capacity(capacity)
        taken = self.places_taken
        if capacity < taken:
            raise Conflict(
                f"capacity {capacity} is below the {taken} volunteers already scheduled",
                field="capacity",
            )
        self._record(ActivityCapacityChanged(self.id, capacity))
        self._promote(now)

    def cancel(self, *, reason: str, by: str, now: datetime) -> None:
        self._require_open_before_start(now, "cancel the activity")
        self._record(ActivityCancelled(self.id, reason, by))

    # sign-up and waiting list ----------------------------------------------------------

    def sign_up(self, resident_id: str, *, by: str, now: datetime) -> str:
        """Give the volunteer a place, or the end of the waiting list; returns which."""
        self._require_open_before_start(now, "sign up")
        current = self.participants.get(resident_id)
        if current is not None and current.status in ACTIVE | {NO_SHOW}:
            raise Conflict(f"already signed up ({current.status})", field="resident_id")
        status = SCHEDULED if not self.waiting and self.places_taken < self.capacity else WAITING
        self._record(VolunteerSignedUp(self.id, resident_id, status, self.scheduled_minutes, by, now))
        return status

    def cancel_sign_up(self, resident_id: str, *, reason: str, by: str, now: datetime) -> None:
        """Give up a place or a spot on the waiting list; the next in line moves up."""
        self._require_open_before_start(now, "cancel a sign-up")
        p = self._participation(resident_id)
        if p.status not in (WAITING, SCHEDULED):
            raise Conflict(f"cannot cancel a sign-up while {p.status}", field="status")
        self._record(SignUpCancelled(self.id, resident_id, reason, by, now))
        self._promote(now)

    def withdraw_if_upcoming(self, resident_id: str, *, reason: str, now: datetime) -> bool:
        """Drop a volunteer who can no longer come (moved out, erased) from a future shift."""
        p = self.participants.get(resident_id)
        if self.cancelled or now >= self.starts_at or p is None:
            return False
        if p.status not in (WAITING, SCHEDULED):
            return False
        self.cancel_sign_up(resident_id, reason=reason, by="system", now=now)
        return True

    def _promote(self, now: datetime) -> None:
        while self.waiting and self.places_taken < self.capacity:
            self._record(VolunteerPromoted(self.id, self.waiting[0], now))

    # on the day -------------------------------------------------------------------------

    def check_in(self, resident_id: str, *, by: str, now: datetime) -> None:
        self._require_not_cancelled()
        p = self._participation(resident_id)
        if p.status != SCHEDULED:
            raise Conflict(f"cannot check in while {p.status}", field="status")
        if now < self.starts_at - CHECK_IN_OPENS:
            raise Conflict("check-in opens 30 minutes before the start", field="status")
        if now > self.ends_at:
            raise Conflict("the activity is over; mark a no-show instead", field="status")
        self._record(VolunteerCheckedIn(self.id, resident_id, now, by))

    def check_out(self, resident_id: str, *, by: str, now: datetime) -> None:
        p = self._participation(resident_id)
        if p.status != CHECKED_IN:
            raise Conflict(f"cannot check out while {p.status}: check in first", field="status")
        assert p.checked_in_at is not None
        minutes = max(0, _minutes(p.checked_in_at, now))
        self._record(VolunteerCheckedOut(self.id, resident_id, now, minutes, by))

    def mark_no_show(self, resident_id: str, *, by: str, now: datetime) -> None:
        self._require_not_cancelled()
        p = self._participation(resident_id)
        if p.status != SCHEDULED:
            raise Conflict(f"cannot mark a no-show while {p.status}", field="status")
        if now < self.starts_at:
            raise Conflict("a no-show can be marked once the activity has started", field="status")
        self._record(VolunteerMarkedNoShow(self.id, resident_id, by))

    def verify(
        self,
        resident_id: str,
        *,
        verifier_id: str,
        verifier_is_leader: bool,
        minutes: int | None,
        now: datetime,
        verifier_resident_id: str | None = None,
    ) -> int:
        """The team leader confirms a completed participation's minutes; returns them."""
        if resident_id in (verifier_id, verifier_resident_id):
            raise Forbidden("a volunteer cannot verify their own hours", field="resident_id")
        if not verifier_is_leader:
            raise Forbidden("only the team's leader verifies hours", field="verified_by")
        p = self._participation(resident_id)
        if p.status != COMPLETED:
            raise Conflict(f"cannot verify hours while {p.status}", field="status")
        if p.verified_minutes is not None:
            raise Conflict("these hours are already verified", field="status")
        if p.completed_minutes <= 0:
            raise Conflict("no completed minutes to verify", field="status")
        confirmed = p.completed_minutes if minutes is None else minutes
        if not 1 <= confirmed <= p.completed_minutes:
            raise InvalidInput(
                f"verified minutes must be between 1 and the {p.completed_minutes} completed",
                field="minutes",
            )
        self._record(ParticipationVerified(self.id, resident_id, confirmed, verifier_id, now))
        return confirmed

    # helpers ------------------------------------------------------------------------------

    def _participation(self, resident_id: str) -> Participation:
        p = self.participants.get(resident_id)
        if p is None:
            raise Conflict("this volunteer has not signed up", field="resident_id")
        return p

    def _require_not_cancelled(self) -> None:
        if self.cancelled:
            raise Conflict("the activity was cancelled", field="status")

    def _require_open_before_start(self, now: datetime, action: str) -> None:
        self._require_not_cancelled()
        if now >= self.starts_at:
            raise Conflict(f"cannot {action} once the activity has started", field="status")

    # state ---------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        match event:
            case ActivityScheduled():
                self.team_id = event.team_id
                self.community_code = event.community_code
                self.title = event.title
                self.starts_at, self.ends_at = event.starts_at, event.ends_at
                self.capacity = event.capacity
            case ActivityCapacityChanged(capacity=capacity):
                self.capacity = capacity
            case ActivityCancelled():
                self.cancelled = True
                for p in self.participants.values():
                    if p.status in (WAITING, SCHEDULED):
                        p.status = CANCELLED
                self.waiting.clear()
            case VolunteerSignedUp(resident_id=rid, status=status):
                self.participants[rid] = Participation(rid, status, event.scheduled_minutes)
                if status == WAITING:
                    self.waiting.append(rid)
            case VolunteerPromoted(resident_id=rid):
                self.participants[rid].status = SCHEDULED
                self.waiting.remove(rid)
            case SignUpCancelled(resident_id=rid):
                self.participants[rid].status = CANCELLED
                if rid in self.waiting:
                    self.waiting.remove(rid)
            case VolunteerCheckedIn(resident_id=rid, at=at):
                self.participants[rid].status = CHECKED_IN
                self.participants[rid].checked_in_at = at
            case VolunteerCheckedOut(resident_id=rid):
                p = self.participants[rid]
                p.status, p.checked_out_at = COMPLETED, event.at
                p.completed_minutes = event.completed_minutes
            case VolunteerMarkedNoShow(resident_id=rid):
                self.participants[rid].status = NO_SHOW
            case ParticipationVerified(resident_id=rid):
                p = self.participants[rid]
                p.verified_minutes, p.verified_by = event.verified_minutes, event.verified_by

    def snapshot_state(self) -> dict[str, Any]:
        """Busy shifts (a sign-up storm) have long streams; snapshots keep loads short.

        The unit of work asks for this state on every write, due or not, so it is
        built by hand rather than with `dataclasses.asdict` (a deep copy).
        """
        return {
            "team_id": self.team_id,
            "community_code": self.community_code,
            "title": self.title,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "capacity": self.capacity,
            "cancelled": self.cancelled,
            "waiting": list(self.waiting),
            "participants": [
                {
                    "resident_id": p.resident_id,
                    "status": p.status,
                    "scheduled_minutes": p.scheduled_minutes,
                    "checked_in_at": p.checked_in_at.isoformat() if p.checked_in_at else None,
                    "checked_out_at": p.checked_out_at.isoformat() if p.checked_out_at else None,
                    "completed_minutes": p.completed_minutes,
                    "verified_minutes": p.verified_minutes,
                    "verified_by": p.verified_by,
                }
                for p in self.participants.values()
            ],
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        self.team_id = state["team_id"]
        self.community_code = state["community_code"]
        self.title = state["title"]
        self.starts_at = datetime.fromisoformat(state["starts_at"])
        self.ends_at = datetime.fromisoformat(state["ends_at"])
        self.capacity = state["capacity"]
        self.cancelled = state["cancelled"]
        self.waiting = list(state["waiting"])
        self.participants = {}
        for raw in state["participants"]:
            p = Participation(**raw)
            p.checked_in_at = _parse(raw["checked_in_at"])
            p.checked_out_at = _parse(raw["checked_out_at"])
            self.participants[p.resident_id] = p


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _check_capacity(capacity: int) -> None:
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput(f"capacity must be between 1 and {MAX_CAPACITY}", field="capacity")
