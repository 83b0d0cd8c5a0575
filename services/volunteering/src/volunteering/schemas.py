"""What volunteering answers: the commands that say more than `{id, version, position}`,
and the response models of its GET routes.

The read models' rows are described as the views return them (field for field, in
the same order), so the OpenAPI document says what a client gets. Minutes are the
figures; `verified_hours` is derived for display.
"""

from __future__ import annotations

from datetime import datetime

from doorstep_shared.commands import CommandAccepted
from pydantic import BaseModel

from volunteering.domain.activities import ParticipationStatus
from volunteering.domain.ledger import Channel
from volunteering.domain.teams import Focus

# commands ---------------------------------------------------------------------------------------


class SignUpAccepted(CommandAccepted):
    status: ParticipationStatus  # scheduled (a place) or waiting (the end of the waiting list)
    resident_id: str


class HoursVerifiedAccepted(CommandAccepted):
    verified_minutes: int
    balance: int  # the volunteer's balance with the points these hours earned


class RedemptionAccepted(CommandAccepted):
    balance: int  # what is left to spend


# teams ------------------------------------------------------------------------------------------


class TeamView(BaseModel):
    team_id: str
    name: str
    community_code: str
    focus: Focus
    leader_id: str
    description: str
    member_count: int
    formed_at: datetime


class TeamMemberView(BaseModel):
    """An active member, with the shifts attended and minutes served in this team."""

    resident_id: str
    joined_at: datetime
    verified_minutes: int
    completed_minutes: int
    activities_attended: int
    verified_hours: float


class TeamTotals(BaseModel):
    activities: int
    scheduled_minutes: int
    completed_minutes: int
    verified_minutes: int
    verified_hours: float


class TeamDetail(TeamView):
    members: list[TeamMemberView]
    totals: TeamTotals


# activities -------------------------------------------------------------------------------------


class ActivityView(BaseModel):
    activity_id: str
    team_id: str
    community_code: str
    title: str
    description: str
    place: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    scheduled_count: int
    waiting_count: int
    skills_wanted: list[str]
    status: str  # open or cancelled
    free_places: int
    team_name: str
    focus: Focus


class ParticipationView(BaseModel):
    """One volunteer on one activity; `waiting_seq` orders the waiting list."""

    activity_id: str
    resident_id: str
    team_id: str
    community_code: str
    starts_at: datetime
    ends_at: datetime
    status: ParticipationStatus
    waiting_seq: int | None
    signed_up_at: datetime
    scheduled_minutes: int
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    completed_minutes: int
    verified_minutes: int | None
    verified_by: str | None
    verified_at: datetime | None
    cancel_reason: str | None


class ActivityDetail(ActivityView):
    """Its team's leader and staff of the area see the roster (`volunteers`, `waiting_list`,
    `cancelled`); a resident sees their own place (`my_participation`, null when none);
    others see the activity alone. Only the fields that apply are in the answer."""

    volunteers: list[ParticipationView] = []
    waiting_list: list[ParticipationView] = []
    cancelled: list[ParticipationView] = []
    my_participation: ParticipationView | None = None


# volunteers and the ledger ----------------------------------------------------------------------


class TotalsRow(BaseModel):
    """A volunteer's running totals (what leaderboards rank)."""

    resident_id: str
    community_code: str | None
    balance: int
    points_earned: int
    points_redeemed: int
    verified_minutes: int
    first_verified_at: datetime | None


class GivingBack(BaseModel):
    """When Doorstep first helped the volunteer into work, training or piecework pay."""

    hired_at: datetime | None
    trained_at: datetime | None
    piecework_at: datetime | None
    first_helped_at: datetime
    hired: bool
    trained: bool
    paid_for_piecework: bool


class HistoryEntry(ParticipationView):
    title: str
    place: str
    team_name: str


class VolunteerProfile(TotalsRow):
    verified_hours: float
    giving_back: GivingBack | None
    history: list[HistoryEntry]


class LedgerEntryView(BaseModel):
    """One line of a statement: `points` signed (redemptions negative), with the balance it left."""

    entry_id: str
    resident_id: str
    seq: int
    kind: str  # hours, credit or redemption
    points: int
    minutes: int
    balance: int | None
    source: str | None
    source_ref: str | None
    channel: Channel | None
    partner_id: str | None
    reference: str | None
    community_code: str
    at: datetime


class Statement(BaseModel):
    resident_id: str
    balance: int
    verified_minutes: int
    entries: list[LedgerEntryView]


# certificates -----------------------------------------------------------------------------------


class CertifiedVolunteer(BaseModel):
    resident_id: str


class Period(BaseModel):
    since: datetime | None
    until: datetime | None


class CertificateRecord(BaseModel):
    team_id: str
    team_name: str
    community_code: str
    activity_id: str
    service: str
    focus: Focus
    place: str
    starts_at: datetime
    ends_at: datetime
    verified_minutes: int
    verified_hours: float
    verified_by: str | None
    verified_at: datetime | None


class Certificate(BaseModel):
    """The volunteer service record (志愿服务记录证明): verified service only."""

    certificate_no: str
    issuer: str
    issued_at: datetime
    volunteer: CertifiedVolunteer
    period: Period
    records: list[CertificateRecord]
    total_verified_minutes: int
    total_verified_hours: float


# leaderboards and figures -----------------------------------------------------------------------


class LeaderboardRow(TotalsRow):
    rank: int
    verified_hours: float


class AreaFigures(BaseModel):
    area_code: str
    since: datetime | None
    until: datetime | None
    teams: int
    team_members: int
    activities: int
    active_volunteers: int
    verified_minutes: int
    verified_hours: float
    points_issued: int
    points_redeemed: int
    givers_back: int
