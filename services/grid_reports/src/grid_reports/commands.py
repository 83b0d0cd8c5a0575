"""Commands: what a caller asks this service to do (also the HTTP request bodies).

Shapes and types are checked here; the rules (allowed values, limits, states)
are the domain's, so they hold whichever way a command arrives (HTTP, Open311,
a visit finding). The allowed values named in the descriptions are the
domain's own lists. A command acting on a case or a dispute names it in a
`Target` field, filled from the path.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from doorstep_shared.commands import Command, Target
from doorstep_shared.inputs import Command as NestedCommand
from doorstep_shared.inputs import Text
from pydantic import ConfigDict, Field, StringConstraints

from grid_reports.domain.rules import CATEGORIES, FINDINGS, PARTY_KINDS, PRIORITIES, SOURCES, VISIT_KINDS

Kind = Annotated[str, StringConstraints(min_length=1, max_length=40)]  # checked against the domain's list
PhotoUrl = Annotated[str, StringConstraints(min_length=1, max_length=2000)]  # the domain applies its own limit
PartyId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
CommunityCode = Annotated[str, StringConstraints(min_length=12, max_length=12, pattern=r"^\d+$")]
GridCode = Annotated[str, StringConstraints(min_length=15, max_length=15, pattern=r"^\d+$")]


def one_of(choices: Sequence[str]) -> str:
    return f"one of: {', '.join(choices)}"


# cases ------------------------------------------------------------------------------------


class ReportCase(Command):
    category: Kind = Field(description=one_of(CATEGORIES))
    source: Kind = Field(description=one_of(SOURCES))
    community_code: CommunityCode
    grid_code: GridCode | None = None
    building: str | None = Field(None, max_length=40)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    address: str | None = Field(None, max_length=200)
    description: Text = Field(min_length=1, max_length=2000)
    photos: list[PhotoUrl] = Field(
        default_factory=list, max_length=20, description="https URLs; never fetched by the server"
    )
    priority: Kind = Field("normal", description=one_of(PRIORITIES))


class ReportCaseOverOpen311(ReportCase):
    """A report a civic app files through Open311: the same case, recorded on the `open311` channel."""


class AcceptCase(Command):
    case_id: Target


class RejectCase(Command):
    case_id: Target
    reason: Text = Field(min_length=1, max_length=500)


class MergeCase(Command):
    case_id: Target
    into_case_id: str = Field(min_length=1, max_length=36)


class AssignCase(Command):
    case_id: Target
    assignee_id: str = Field(min_length=1, max_length=64)


class StartCase(Command):
    case_id: Target


class ResolveCase(Command):
    case_id: Target
    resolution: Text = Field(min_length=1, max_length=2000)
    photos: list[PhotoUrl] = Field(default_factory=list, max_length=20)


class GiveFeedback(Command):
    case_id: Target
    satisfaction: int = Field(ge=1, le=5)
    comment: Text = Field("", max_length=1000)


class CloseCase(Command):
    case_id: Target


class SetPublicSummary(Command):
    """The text the public Open311 listing shows for the case (no phone or ID number)."""

    case_id: Target
    text: Text = Field(min_length=1, max_length=500)


# visits -----------------------------------------------------------------------------------


class FindingIn(NestedCommand):
    model_config = ConfigDict(frozen=True, extra="forbid")

    finding: Kind = Field(description=one_of(FINDINGS))
    note: Text = Field("", max_length=1000)


class RecordVisit(Command):
    resident_id: str | None = Field(None, max_length=36)
    household_id: str | None = Field(None, max_length=40)
    community_code: CommunityCode
    grid_code: GridCode
    kind: Kind = Field("door_knock", description=one_of(VISIT_KINDS))
    visited_at: datetime | None = Field(None, description="defaults to now")
    findings: list[FindingIn] = Field(default_factory=list, max_length=10)
    note: Text = Field("", max_length=2000)


# disputes ---------------------------------------------------------------------------------


class PartyIn(NestedCommand):
    model_config = ConfigDict(frozen=True, extra="forbid")

    party_id: str = Field(min_length=1, max_length=64)
    kind: Kind = Field("resident", description=one_of(PARTY_KINDS))


class OpenDispute(Command):
    case_id: str | None = Field(None, max_length=36)
    community_code: CommunityCode
    grid_code: GridCode | None = None
    parties: list[PartyIn] = Field(min_length=2, max_length=20)
    summary: Text = Field(min_length=1, max_length=2000)


class HoldSession(Command):
    dispute_id: Target
    held_at: datetime | None = Field(None, description="defaults to now")
    attendees: list[PartyId] = Field(min_length=1, max_length=20)
    notes: Text = Field("", max_length=4000)


class RecordAgreement(Command):
    dispute_id: Target
    agreement: Text = Field(min_length=1, max_length=4000)


class EndWithoutAgreement(Command):
    dispute_id: Target
    reason: Text = Field(min_length=1, max_length=2000)
