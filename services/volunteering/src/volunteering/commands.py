"""Commands: what a caller (or the service itself, reacting) may ask volunteering to do.

Each is also the request body of its endpoint: shapes and bounds are checked
here (a violation is a 422 naming the field); the rules that depend on state
live in the aggregates. `Target` fields name the team, activity or volunteer
acted on and come from the path, never from the body.
"""

from __future__ import annotations

from typing import Annotated, Literal

from doorstep_shared.areas import AREA_CODE_PATTERN
from doorstep_shared.commands import Command, Target
from doorstep_shared.inputs import AreaCode as AreaCode  # a whole code of one of the levels
from doorstep_shared.inputs import Text
from pydantic import AwareDatetime, Field, StringConstraints

from volunteering.domain.ledger import Channel
from volunteering.domain.teams import Focus

AREA_CODE = AREA_CODE_PATTERN  # a whole code of one of the levels
Skill = Annotated[str, StringConstraints(min_length=1, max_length=60)]

# teams ------------------------------------------------------------------------------------------


class FormTeam(Command):
    name: str = Field(min_length=1, max_length=100)
    community_code: AreaCode
    focus: Focus
    leader_id: str = Field(min_length=1, max_length=64, description="staff id of a team_leader")
    description: Text = Field("", max_length=2000)


class ChangeLeader(Command):
    team_id: Target
    leader_id: str = Field(min_length=1, max_length=64)


class JoinTeam(Command):
    team_id: Target
    resident_id: str | None = Field(
        None, min_length=1, max_length=64, description="omit when residents join themselves"
    )


class LeaveTeam(Command):
    """A member leaves of their own accord; a leader or staff member removes one (with a reason)."""

    team_id: Target
    resident_id: Target
    reason: str | None = Field(None, max_length=500)


# activities -------------------------------------------------------------------------------------


class ScheduleActivity(Command):
    team_id: Target
    title: str = Field(min_length=1, max_length=200)
    place: str = Field(min_length=1, max_length=200)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: int = Field(ge=1, le=10_000)
    skills_wanted: list[Skill] = Field(default_factory=list, max_length=20)
    description: Text = Field("", max_length=2000)


class ChangeCapacity(Command):
    activity_id: Target
    capacity: int = Field(ge=1, le=10_000)


class CancelActivity(Command):
    activity_id: Target
    reason: Text = Field(min_length=1, max_length=500)


class SignUp(Command):
    activity_id: Target
    resident_id: str | None = Field(
        None, min_length=1, max_length=64, description="omit when residents sign themselves up"
    )


class ParticipationCommand(Command):
    """A command about one volunteer's place on one activity."""

    activity_id: Target
    resident_id: Target


class CancelSignUp(ParticipationCommand):
    pass


class CheckIn(ParticipationCommand):
    pass


class CheckOut(ParticipationCommand):
    pass


class MarkNoShow(ParticipationCommand):
    pass


class VerifyHours(ParticipationCommand):
    minutes: int | None = Field(None, ge=1, le=1440, description="defaults to the completed minutes")


# ledger -----------------------------------------------------------------------------------------


class Redeem(Command):
    resident_id: Target
    points: int = Field(ge=1, le=1_000_000)
    channel: Channel
    reference: str = Field(min_length=1, max_length=200, description="receipt or service slip")
    partner_id: str | None = Field(None, max_length=64, description="the merchant; taken from the API key for partners")


# given by the service itself, reacting to other services' facts (taken as they were published) --


class WithdrawResident(Command):
    """A resident moved out or was erased: off every roster and upcoming shift, as of `at`."""

    resident_id: str
    reason: Literal["moved_out", "erased"]
    at: AwareDatetime | None = Field(None, description="when it happened; the service clock's now if unknown")


class CreditIncentive(Command):
    """Grid reports verified a courier's case: its points, credited once per source event."""

    reporter_id: str
    points: int = Field(ge=1)
    case_id: str
    source_event_id: str
    community_code: str
    at: AwareDatetime | None = Field(None, description="when it was earned; the service clock's now if unknown")
