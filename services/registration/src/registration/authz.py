"""Who may do what in registration: the role sets and checks that commands and queries share.

Two things decide: the caller's role, and whether the area at stake is inside
the caller's areas (each level's code is its parent's plus one segment, compared
whole, so a street admin acts in every grid under that street and nowhere else).
A check raises `Forbidden` (403) naming the field at fault; a role check comes
before any lookup, so the wrong role never learns whether a resident exists.
"""

from __future__ import annotations

from collections.abc import Sequence

from doorstep_shared.auth import Principal, Role
from doorstep_shared.domain import Forbidden

from registration.domain.enums import AreaLevel, StaffRole

SCOPE_ADMINS = frozenset({Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.STREET_ADMIN})
RESIDENT_WRITERS = SCOPE_ADMINS | {Role.COMMUNITY_STAFF, Role.GRID_WORKER}
PARTNER_MANAGERS = SCOPE_ADMINS | {Role.COMMUNITY_STAFF}
STAFF_MANAGERS = SCOPE_ADMINS | {Role.COMMUNITY_STAFF}
# who stands above whom: staff grant and manage only roles ranked below their own
RANK: dict[str, int] = {
    Role.CITY_ADMIN: 5,
    Role.DISTRICT_ADMIN: 4,
    Role.STREET_ADMIN: 3,
    Role.COMMUNITY_STAFF: 2,
    Role.GRID_WORKER: 1,
    Role.TEAM_LEADER: 1,
    Role.PARTNER: 0,
    Role.RESIDENT: 0,
}


# areas ---------------------------------------------------------------------------------------


def check_area_creation(actor: Principal, level: AreaLevel, parent_code: str | None) -> None:
    """Area admins add areas under their own; only a city admin adds a city."""
    actor.require_role(*SCOPE_ADMINS)
    if level == AreaLevel.CITY:
        actor.require_role(Role.CITY_ADMIN)
    else:
        actor.require_area(parent_code or "", field="parent_code")


# residents -----------------------------------------------------------------------------------


def check_resident_writer(actor: Principal) -> None:
    """Area admins, community staff and grid workers keep residents' records."""
    actor.require_role(*RESIDENT_WRITERS)


def check_resident_in_scope(actor: Principal, grid_code: str, field: str = "resident_id") -> None:
    """The resident lives (or is to live) in one of the caller's areas."""
    actor.require_area(grid_code, field=field)


def check_erasure(actor: Principal) -> None:
    if actor.role == Role.GRID_WORKER:
        raise Forbidden("erasure is decided by community staff or an area admin")


def check_resident_history(viewer: Principal, grid_code: str) -> None:
    """A resident's event history is for those who keep the record, in its area."""
    check_resident_writer(viewer)
    check_resident_in_scope(viewer, grid_code)


def sees_unmasked(viewer: Principal, grid_code: str, community_code: str) -> bool:
    """Full ID number and phone: the resident's own grid worker and community staff only."""
    if viewer.role == Role.GRID_WORKER:
        return viewer.can_act_in(grid_code)
    if viewer.role == Role.COMMUNITY_STAFF:
        return viewer.can_act_in(community_code)
    return False


# partners ------------------------------------------------------------------------------------


def check_partner_manager(actor: Principal) -> None:
    """Area admins and community staff register and manage partners."""
    actor.require_role(*PARTNER_MANAGERS)


def check_partner_in_scope(actor: Principal, area_code: str) -> None:
    """...of their own areas."""
    actor.require_area(area_code)


def check_partner_reader(viewer: Principal, partner_id: str, area_code: str) -> None:
    """A partner reads its own record; anyone else only a partner of their areas."""
    if viewer.partner_id != partner_id:
        viewer.require_area(area_code)


# staff ---------------------------------------------------------------------------------------


def check_staff_creation(actor: Principal, role: StaffRole, areas: Sequence[str]) -> None:
    """Staff grant only roles strictly below their own, inside their own areas."""
    actor.require_role(*STAFF_MANAGERS)
    if RANK[role] >= RANK[actor.role]:
        raise Forbidden(f"a {actor.role} grants only roles below its own, not {role}", field="role")
    for i, code in enumerate(areas):
        actor.require_area(code, field=f"areas.{i}")


def check_staff_manager(actor: Principal, role: str, areas: Sequence[str]) -> None:
    """An account is disabled, enabled or has its password reset by one who could have
    created it: a role above its own, acting in every one of its areas."""
    actor.require_role(*STAFF_MANAGERS)
    if RANK.get(role, len(RANK)) >= RANK[actor.role]:
        raise Forbidden(f"a {actor.role} manages only accounts of roles below its own", field="staff_id")
    if not areas and not actor.can_act_in(""):
        raise Forbidden("an account acting everywhere is managed by a city admin only", field="staff_id")
    for code in areas:
        actor.require_area(code, field="staff_id")


def sees_staff(viewer: Principal, areas: Sequence[str]) -> bool:
    """Staff accounts acting in one of the viewer's areas (a city admin sees all)."""
    return any(viewer.can_act_in(a) for a in areas) or viewer.can_act_in("")
