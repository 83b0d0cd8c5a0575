"""Commands: what a caller asks this service to do (also the HTTP request bodies).

Shapes and types are checked here; the rules (allowed values, limits, states)
are the domain's, so they hold whichever way a command arrives (HTTP, Open311,
a visit finding). Every command is bounded (`doorstep_shared.inputs.Command`):
no control characters, numbers that fit the database; `Text` may hold line breaks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from doorstep_shared.inputs import Command as BoundedCommand
from doorstep_shared.inputs import Text
from pydantic import ConfigDict, Field, StringConstraints

Kind = Annotated[str, StringConstraints(min_length=1, max_length=40)]  # checked against the domain's list
PhotoUrl = Annotated[str, StringConstraints(min_length=1, max_length=2000)]  # the domain applies its own limit
PartyId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Command(BoundedCommand):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReportCase(Command):
    category: Kind = Field(description="public_opinion, neighbour_dispute, noise, dogs, facility, ...")
    source: Kind = Field(description="resident, grid_worker, party_member_household, courier_sentinel, hotline")
    community_code: str = Field(min_length=12, max_length=12, pattern=r"^\d+$")
    grid_code: str | None = Field(None, min_length=15, max_length=15, pattern=r"^\d+$")
    building: str | None = Field(None, max_length=40)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    address: str | None = Field(None, max_length=200)
    description: Text = Field(min_length=1, max_length=2000)
    photos: list[PhotoUrl] = Field(
        default_factory=list, max_length=20, description="https URLs; never fetched by the server"
    )
    priority: Kind = "normal"


class RejectCase(Command):
    reason: Text = Field(min_length=1, max_length=500)


class MergeCase(Command):
    into_case_id: str = Field(min_length=1, max_length=36)


class AssignCase(Command):
    assignee_id: str = Field(min_length=1, max_length=64)


class ResolveCase(Command):
    resolution: Text = Field(min_length=1, max_length=2000)
    photos: list[PhotoUrl] = Field(default_factory=list, max_length=20)


class GiveFeedback(Command):
    satisfaction: int = Field(ge=1, le=5)
    comment: Text = Field("", max_length=1000)


class FindingIn(Command):
    finding: Kind = Field(description="wants_job, elderly_subsidy_check, home_safety_hazard, other")
    note: Text = Field("", max_length=1000)


class RecordVisit(Command):
    resident_id: str | None = Field(None, max_length=36)
    household_id: str | None = Field(None, max_length=40)
    community_code: str = Field(min_length=12, max_length=12, pattern=r"^\d+$")
    grid_code: str = Field(min_length=15, max_length=15, pattern=r"^\d+$")
    kind: Kind = "door_knock"
    visited_at: datetime | None = Field(None, description="defaults to now")
    findings: list[FindingIn] = Field(default_factory=list, max_length=10)
    note: Text = Field("", max_length=2000)


class PartyIn(Command):
    party_id: str = Field(min_length=1, max_length=64)
    kind: Kind = Field("resident", description="resident, household, organisation, other")


class OpenDispute(Command):
    case_id: str | None = Field(None, max_length=36)
    community_code: str = Field(min_length=12, max_length=12, pattern=r"^\d+$")
    grid_code: str | None = Field(None, min_length=15, max_length=15, pattern=r"^\d+$")
    parties: list[PartyIn] = Field(min_length=2, max_length=20)
    summary: Text = Field(min_length=1, max_length=2000)


class HoldSession(Command):
    held_at: datetime | None = Field(None, description="defaults to now")
    attendees: list[PartyId] = Field(min_length=1, max_length=20)
    notes: Text = Field("", max_length=4000)


class RecordAgreement(Command):
    agreement: Text = Field(min_length=1, max_length=4000)


class EndWithoutAgreement(Command):
    reason: Text = Field(min_length=1, max_length=2000)
