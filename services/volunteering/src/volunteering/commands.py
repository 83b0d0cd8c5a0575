"""Command bodies: what a caller may ask the service to do, validated at the edge.

Shapes and bounds are checked here (a violation is a 422 naming the field);
the rules that depend on state live in the aggregates.
"""

from __future__ import annotations

from typing import Annotated, Literal

from doorstep_shared.inputs import Command as BoundedCommand
from doorstep_shared.inputs import Text
from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints

Focus = Literal["elderly_care", "cleanup", "safety_patrol", "recreation", "after_school_class"]
Channel = Literal["merchant", "time_bank"]
AREA_CODE = r"^\d{4,15}$"
AreaCode = Annotated[str, StringConstraints(pattern=AREA_CODE)]
Skill = Annotated[str, StringConstraints(min_length=1, max_length=60)]


class Command(BoundedCommand):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FormTeam(Command):
    name: str = Field(min_length=1, max_length=100)
    community_code: AreaCode
    focus: Focus
    leader_id: str = Field(min_length=1, max_length=64, description="staff id of a team_leader")
    description: Text = Field("", max_length=2000)


class ChangeLeader(Command):
    leader_id: str = Field(min_length=1, max_length=64)


class JoinTeam(Command):
    resident_id: str | None = Field(
        None, min_length=1, max_length=64, description="omit when residents join themselves"
    )


class ScheduleActivity(Command):
    title: str = Field(min_length=1, max_length=200)
    place: str = Field(min_length=1, max_length=200)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: int = Field(ge=1, le=10_000)
    skills_wanted: list[Skill] = Field(default_factory=list, max_length=20)
    description: Text = Field("", max_length=2000)


class ChangeCapacity(Command):
    capacity: int = Field(ge=1, le=10_000)


class CancelActivity(Command):
    reason: Text = Field(min_length=1, max_length=500)


class SignUp(Command):
    resident_id: str | None = Field(
        None, min_length=1, max_length=64, description="omit when residents sign themselves up"
    )


class VerifyHours(Command):
    minutes: int | None = Field(None, ge=1, le=1440, description="defaults to the completed minutes")


class Redeem(Command):
    points: int = Field(ge=1, le=1_000_000)
    channel: Channel
    reference: str = Field(min_length=1, max_length=200, description="receipt or service slip")
    partner_id: str | None = Field(None, max_length=64, description="the merchant; taken from the API key for partners")
