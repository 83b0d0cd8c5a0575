"""A volunteer team (志愿服务队): its community, focus, leader and members."""

from __future__ import annotations

from typing import Literal, get_args

from doorstep_contracts.volunteering import (
    MemberJoined,
    MemberLeft,
    MemberRemoved,
    TeamFormed,
    TeamLeaderChanged,
)
from doorstep_shared.domain import Aggregate, Conflict, Event, InvalidInput

# what a team does: forming a team, filtering teams and every team view name one of these
Focus = Literal["elderly_care", "cleanup", "safety_patrol", "recreation", "after_school_class"]
FOCI: frozenset[str] = frozenset(get_args(Focus))


class Team(Aggregate):
    stream_type = "teams"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.name = ""
        self.community_code = ""
        self.focus = ""
        self.leader_id = ""
        self.members: set[str] = set()

    @classmethod
    def form(
        cls,
        team_id: str,
        *,
        name: str,
        community_code: str,
        focus: str,
        leader_id: str,
        description: str = "",
    ) -> Team:
        if not name.strip():
            raise InvalidInput("a team needs a name", field="name")
        if focus not in FOCI:
            raise InvalidInput(f"focus must be one of {', '.join(sorted(FOCI))}", field="focus")
        team = cls(team_id)
        team._record(TeamFormed(team_id, name.strip(), community_code, focus, leader_id, description))
        return team

    def is_leader(self, subject: str) -> bool:
        return subject == self.leader_id

    def change_leader(self, leader_id: str) -> None:
        if leader_id == self.leader_id:
            raise Conflict("this staff member already leads the team", field="leader_id")
        self._record(TeamLeaderChanged(self.id, leader_id))

    def join(self, resident_id: str, *, added_by: str) -> None:
        if resident_id in self.members:
            raise Conflict("already a member of this team", field="resident_id")
        self._record(MemberJoined(self.id, resident_id, added_by))

    def leave(self, resident_id: str) -> None:
        self._require_member(resident_id)
        self._record(MemberLeft(self.id, resident_id))

    def remove(self, resident_id: str, *, reason: str, removed_by: str) -> None:
        self._require_member(resident_id)
        self._record(MemberRemoved(self.id, resident_id, reason, removed_by))

    def _require_member(self, resident_id: str) -> None:
        if resident_id not in self.members:
            raise Conflict("not a member of this team", field="resident_id")

    def apply(self, event: Event) -> None:
        match event:
            case TeamFormed():
                self.name = event.name
                self.community_code = event.community_code
                self.focus = event.focus
                self.leader_id = event.leader_id
            case TeamLeaderChanged(leader_id=leader_id):
                self.leader_id = leader_id
            case MemberJoined(resident_id=rid):
                self.members.add(rid)
            case MemberLeft(resident_id=rid) | MemberRemoved(resident_id=rid):
                self.members.discard(rid)
