"""Volunteering's facts. Their shapes are a contract: see docs/events.md.

Every event names its aggregate's id first; volunteers are known only by the
pseudonymous `resident_id` registration gives them, never by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from doorstep_shared.domain import Event, EventRegistry

registry = EventRegistry()

# teams ------------------------------------------------------------------------------


@registry.register
@dataclass(frozen=True)
class TeamFormed(Event):
    team_id: str
    name: str
    community_code: str
    focus: str
    leader_id: str
    description: str = ""


@registry.register
@dataclass(frozen=True)
class TeamLeaderChanged(Event):
    team_id: str
    leader_id: str


@registry.register
@dataclass(frozen=True)
class MemberJoined(Event):
    team_id: str
    resident_id: str
    added_by: str


@registry.register
@dataclass(frozen=True)
class MemberLeft(Event):
    team_id: str
    resident_id: str


@registry.register
@dataclass(frozen=True)
class MemberRemoved(Event):
    team_id: str
    resident_id: str
    reason: str
    removed_by: str


# activities ----------------------------------------------------------------------------


@registry.register
@dataclass(frozen=True)
class ActivityScheduled(Event):
    activity_id: str
    team_id: str
    community_code: str
    title: str
    place: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    skills_wanted: tuple[str, ...] = ()
    description: str = ""


@registry.register
@dataclass(frozen=True)
class ActivityCapacityChanged(Event):
    activity_id: str
    capacity: int


@registry.register
@dataclass(frozen=True)
class ActivityCancelled(Event):
    activity_id: str
    reason: str
    cancelled_by: str


@registry.register
@dataclass(frozen=True)
class VolunteerSignedUp(Event):
    """`status` is `scheduled` (a place) or `waiting` (the end of the waiting list)."""

    activity_id: str
    resident_id: str
    status: str
    scheduled_minutes: int
    signed_up_by: str
    at: datetime


@registry.register
@dataclass(frozen=True)
class VolunteerPromoted(Event):
    """The first on the waiting list got the place someone gave up."""

    activity_id: str
    resident_id: str
    at: datetime


@registry.register
@dataclass(frozen=True)
class SignUpCancelled(Event):
    """`reason`: volunteer, leader, moved_out, erased or activity_cancelled."""

    activity_id: str
    resident_id: str
    reason: str
    cancelled_by: str
    at: datetime


@registry.register
@dataclass(frozen=True)
class VolunteerCheckedIn(Event):
    activity_id: str
    resident_id: str
    at: datetime
    checked_in_by: str


@registry.register
@dataclass(frozen=True)
class VolunteerCheckedOut(Event):
    activity_id: str
    resident_id: str
    at: datetime
    completed_minutes: int
    checked_out_by: str


@registry.register
@dataclass(frozen=True)
class VolunteerMarkedNoShow(Event):
    activity_id: str
    resident_id: str
    marked_by: str


@registry.register
@dataclass(frozen=True)
class ParticipationVerified(Event):
    activity_id: str
    resident_id: str
    verified_minutes: int
    verified_by: str
    at: datetime


# ledger (stream id = resident_id) ---------------------------------------------------


@registry.register
@dataclass(frozen=True)
class HoursVerified(Event):
    resident_id: str
    entry_id: str
    activity_id: str
    team_id: str
    community_code: str
    minutes: int
    verified_by: str
    at: datetime


@registry.register
@dataclass(frozen=True)
class PointsCredited(Event):
    """`source`: hours (from HoursVerified) or incentive (grid reports' IncentiveEarned).

    `source_ref` is the activity or case id; `balance` is the balance after this entry;
    `source_key` is what makes the credit unique (`hours:<activity_id>` or
    `incentive:<source event id>`), so the same source is never credited twice.
    """

    resident_id: str
    entry_id: str
    points: int
    source: str
    source_ref: str
    community_code: str
    balance: int
    at: datetime
    source_key: str = ""


@registry.register
@dataclass(frozen=True)
class PointsRedeemed(Event):
    """`channel`: merchant (a partner's points supermarket) or time_bank (时间银行)."""

    resident_id: str
    entry_id: str
    points: int
    channel: str
    partner_id: str | None
    reference: str
    community_code: str
    balance: int
    redeemed_by: str
    at: datetime


TEAM_EVENTS: list[type[Event]] = [
    TeamFormed,
    TeamLeaderChanged,
    MemberJoined,
    MemberLeft,
    MemberRemoved,
]
ACTIVITY_EVENTS: list[type[Event]] = [
    ActivityScheduled,
    ActivityCapacityChanged,
    ActivityCancelled,
    VolunteerSignedUp,
    VolunteerPromoted,
    SignUpCancelled,
    VolunteerCheckedIn,
    VolunteerCheckedOut,
    VolunteerMarkedNoShow,
    ParticipationVerified,
]
LEDGER_EVENTS: list[type[Event]] = [HoursVerified, PointsCredited, PointsRedeemed]

SERVICE = "volunteering"
# topic `volunteering.<aggregate>` -> the events published on it
TOPICS: dict[str, list[type[Event]]] = {
    "teams": TEAM_EVENTS,
    "activities": ACTIVITY_EVENTS,
    "ledger": LEDGER_EVENTS,
}
