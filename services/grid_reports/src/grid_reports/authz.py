"""Who may do what in grid reports: the role sets and the checks commands and queries share.

Roles and area scopes belong to the caller, not to a case, so they are checked
here; a case's own rules (states, reporter-only feedback, assignee-only
handling) are the aggregate's. Area codes nest by prefix, so "inside my areas"
is a prefix test on the principal's scopes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from doorstep_shared.areas import within
from doorstep_shared.auth import ADMIN_ROLES, Principal, Role
from doorstep_shared.domain import Forbidden

from grid_reports.domain.rules import EXTERNAL_SOURCES

HANDLING_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_STAFF, *ADMIN_ROLES)  # handle cases, mediate, read queues
DISPATCH_ROLES = HANDLING_ROLES  # accept, dispatch, verify cases
HOTLINE_ROLES = (Role.COMMUNITY_STAFF, *ADMIN_ROLES)  # file calls taken on the hotline
VISITING_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_STAFF)  # knock on doors
FIGURES_ROLES = (Role.COMMUNITY_STAFF, *ADMIN_ROLES)  # read an area's figures


def actor_id(actor: Principal) -> str:
    """Residents are known by their pseudonymous resident id, everyone else by subject."""
    return actor.resident_id or actor.subject


def reporter_for(actor: Principal, source: str, area_code: str) -> str | None:
    """Who may report under which source; returns the reporter id recorded on the case.

    Residents (couriers and party-member households are residents too) report
    anywhere they are; staff file on behalf of callers (hotline, no reporter
    to ask for feedback) or as grid workers, only inside their own areas.
    """
    if actor.role == Role.RESIDENT:
        if source not in EXTERNAL_SOURCES:
            raise Forbidden(
                f"a resident reports as one of: {', '.join(sorted(EXTERNAL_SOURCES))}",
                field="source",
            )
        return actor_id(actor)
    if actor.role == Role.PARTNER:
        # A civic app files for its anonymous users (Open311): no reporter to ask or reward.
        if source != "resident":
            raise Forbidden("a partner app files resident reports only", field="source")
        return None
    actor.require_area(area_code, field="grid_code" if len(area_code) == 15 else "community_code")
    if source == "grid_worker":
        actor.require_role(*HANDLING_ROLES)
        return actor.subject
    if source == "hotline":
        actor.require_role(*HOTLINE_ROLES)
        return None
    raise Forbidden("staff report as grid_worker or hotline", field="source")


def require_staff(principal: Principal) -> None:
    principal.require_role(*HANDLING_ROLES)


def require_dispatcher(actor: Principal) -> None:
    actor.require_role(*DISPATCH_ROLES)


def require_assignment(actor: Principal, assignee_id: str) -> None:
    """Staff dispatch to anyone; a grid worker takes cases for themselves."""
    if actor.role == Role.GRID_WORKER and assignee_id != actor.subject:
        raise Forbidden(
            "a grid worker takes cases for themselves; staff dispatch to others",
            field="assignee_id",
        )


def require_visitor(actor: Principal, grid_code: str) -> None:
    actor.require_role(*VISITING_ROLES)
    actor.require_area(grid_code, field="grid_code")


def scoped_areas(principal: Principal, area: str | None) -> list[str]:
    """The areas a staff query covers: the one asked for (if it is the caller's), else all of theirs."""
    if area is not None:
        principal.require_area(area, field="area")
    return [area] if area else list(principal.areas)


def require_case_reader(principal: Principal, case: Mapping[str, Any]) -> None:
    """Reporters see their own cases; staff see the cases of their areas (and those escalated to them)."""
    case_id = case["id"]
    if principal.is_staff:
        if not (
            principal.can_act_in(case["grid_code"] or case["community_code"])
            or principal.can_act_in(case["escalated_to"])
        ):
            raise Forbidden(f"case {case_id} is outside your areas", field="case_id")
    elif case["reporter_id"] is None or case["reporter_id"] != actor_id(principal):
        raise Forbidden("reporters see their own cases only", field="case_id")


def require_dispute_reader(principal: Principal, dispute: Mapping[str, Any]) -> None:
    """Disputes are for the staff of the area they arose in (and above it)."""
    principal.require_area(dispute["grid_code"] or dispute["community_code"], field="dispute_id")


def require_community_reader(principal: Principal, community_code: str) -> None:
    """A community's board is for staff of the community, above it, or of one of its grids."""
    if not (principal.can_act_in(community_code) or any(within(a, community_code) for a in principal.areas)):
        raise Forbidden(f"community {community_code} is outside your areas", field="community_code")


def require_figures_reader(principal: Principal) -> None:
    principal.require_role(*FIGURES_ROLES)
