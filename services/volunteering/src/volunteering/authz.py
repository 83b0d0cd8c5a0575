"""Who may do what in volunteering: the role sets and the checks handlers and queries share.

- Community staff and area admins manage the teams of the communities they serve.
- A team's leader (or its community's staff) runs its activities and members;
  only the leader verifies hours.
- Residents act for themselves only, and read their own records.
- Staff and team leaders read rosters and records in their areas.
- Partners redeem points at their own shop, for volunteers of their area.
- The service itself (no signed-in caller) acts on other services' facts.
"""

from __future__ import annotations

from doorstep_shared.auth import ADMIN_ROLES, STAFF_ROLES, Principal, Role
from doorstep_shared.domain import Forbidden, InvalidInput

from volunteering.domain.teams import Team

MANAGER_ROLES = frozenset(ADMIN_ROLES | {Role.COMMUNITY_STAFF})
# staff who may read rosters and records in their areas (residents see their own)
READER_ROLES = frozenset(STAFF_ROLES | {Role.TEAM_LEADER})
SYSTEM = "system"  # who the service itself is, where an event names who acted


def own_resident_id(principal: Principal) -> str:
    """A resident's pseudonymous id: the token's resident_id claim, else its subject."""
    return principal.resident_id or principal.subject


def require_self(principal: Principal, resident_id: str) -> None:
    if resident_id != own_resident_id(principal):
        raise Forbidden("residents act only for themselves", field="resident_id")


def require_service_itself(actor: Principal | None) -> None:
    """Commands the service gives itself, reacting to another service's fact."""
    if actor is not None:
        raise Forbidden("only the volunteering service itself gives this command")


# managing teams and their activities ------------------------------------------------------------


def require_manager(principal: Principal, community_code: str) -> None:
    principal.require_role(*MANAGER_ROLES)
    principal.require_area(community_code, field="community_code")


def is_manager(principal: Principal, team: Team) -> bool:
    return principal.role in MANAGER_ROLES and principal.can_act_in(team.community_code)


def require_leader_or_manager(principal: Principal, team: Team) -> None:
    if team.is_leader(principal.subject) or is_manager(principal, team):
        return
    raise Forbidden("only the team's leader or the community's staff may do this")


def volunteer_for(principal: Principal, given: str | None, team: Team) -> str:
    """Residents act for themselves; a leader or staff member names the resident."""
    if principal.role == Role.RESIDENT:
        own = own_resident_id(principal)
        if given is not None:
            require_self(principal, given)
        return own
    require_leader_or_manager(principal, team)
    if given is None:
        raise InvalidInput("name the resident", field="resident_id")
    return given


def partner_of_redemption(
    principal: Principal, resident_id: str, channel: str, named_partner: str | None, community_code: str
) -> str | None:
    """Who may spend a volunteer's points (the volunteer, a partner shop, the community's
    staff); returns the partner the redemption is booked to (a partner's own, from its key)."""
    if principal.role == Role.RESIDENT:
        require_self(principal, resident_id)
    elif principal.role == Role.PARTNER:
        if channel != "merchant":
            raise InvalidInput("partners redeem at their own shop", field="channel")
        principal.require_area(community_code, field="resident_id")
        return principal.partner_id
    else:
        require_manager(principal, community_code)
    return named_partner


# reading ----------------------------------------------------------------------------------------


def require_reader(principal: Principal, area_code: str | None) -> None:
    if principal.role not in READER_ROLES:
        raise Forbidden("this view is for staff and team leaders")
    principal.require_area(area_code)


def require_team_reader(principal: Principal, leader_id: str, community_code: str) -> None:
    """A team's leader reads it, and staff and leaders of its area."""
    if principal.subject != leader_id:
        require_reader(principal, community_code)


def sees_roster(principal: Principal, *, leads: bool, community_code: str) -> bool:
    """An activity's roster is for its team's leader and staff and leaders of its area."""
    return leads or (principal.role in READER_ROLES and principal.can_act_in(community_code))


def reads_own_record(principal: Principal, resident_id: str) -> bool:
    return principal.role == Role.RESIDENT and own_resident_id(principal) == resident_id
