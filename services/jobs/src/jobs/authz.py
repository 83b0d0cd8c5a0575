"""Who may do what, for commands and queries alike: partners act only for their own
jobs, orders and courses; staff act inside their areas; residents act for themselves.

Organisers (community staff and admins) change things in their areas; grid workers
may read there too, and act for the residents of their grids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from doorstep_shared.auth import ADMIN_ROLES, Principal, Role
from doorstep_shared.domain import Forbidden

ORGANISERS = (Role.COMMUNITY_STAFF, *ADMIN_ROLES)
STAFF = (Role.GRID_WORKER, *ORGANISERS)


def require_partner_kind(actor: Principal, *kinds: str) -> None:
    """A partner key of another kind (say, a training school posting jobs) is refused."""
    actor.require_role(Role.PARTNER)
    if actor.partner_id is None:
        raise Forbidden("partner credentials carry no partner id")
    if actor.partner_kind is not None and actor.partner_kind not in kinds:
        raise Forbidden(f"a {actor.partner_kind} partner cannot do this; it needs a {' or '.join(kinds)}")


def require_organiser_in(actor: Principal, area_code: str, field: str) -> None:
    """Organising staff whose area holds `area_code`."""
    actor.require_role(*ORGANISERS)
    actor.require_area(area_code, field=field)


def require_owner_or_staff(actor: Principal, partner_id: str | None, area_code: str, field: str) -> None:
    """The owning partner, or organising staff whose area holds `area_code`."""
    if actor.role == Role.PARTNER:
        if partner_id is None or actor.partner_id != partner_id:
            raise Forbidden("this belongs to another partner", field=field)
        return
    require_organiser_in(actor, area_code, field)


def require_owner_or_area_staff(actor: Principal, partner_id: str | None, area_code: str, field: str) -> None:
    """Reading a partner's job, order or course: its owner, or staff (grid workers too) in its area."""
    if actor.role == Role.GRID_WORKER:
        actor.require_area(area_code, field=field)
    else:
        require_owner_or_staff(actor, partner_id, area_code, field)


def require_for_resident(actor: Principal, resident: Mapping[str, Any], field: str = "resident_id") -> bool:
    """The resident themselves, or staff whose area holds the resident's grid.

    Returns True when staff act on the resident's behalf."""
    if actor.role == Role.RESIDENT:
        if actor.resident_id != resident["resident_id"]:
            raise Forbidden("residents act only for themselves", field=field)
        return False
    actor.require_role(*STAFF)
    actor.require_area(resident["grid_code"], field=field)
    return True


def require_matching_consent(actor: Principal, resident: Mapping[str, Any]) -> bool:
    """Staff match or apply for a resident only with her consent to employment matching.

    Returns True when staff act on the resident's behalf."""
    on_behalf = require_for_resident(actor, resident)
    if on_behalf and not resident["consent_matching"]:
        raise Forbidden("the resident has not consented to employment matching", field="resident_id")
    return on_behalf


def require_party(
    actor: Principal, *, resident_id: str, partner_id: str | None, area_code: str, what: str, field: str
) -> None:
    """An application or enrolment is read by its resident, its partner, or staff in its area."""
    if actor.role == Role.RESIDENT:
        if actor.resident_id != resident_id:
            raise Forbidden(f"residents see only their own {what}", field=field)
    else:
        require_owner_or_area_staff(actor, partner_id, area_code, field)


def require_for_leaver(
    actor: Principal, resident: Mapping[str, Any] | None, *, resident_id: str, area_code: str, field: str
) -> None:
    """Withdrawing an application: the resident or staff of her grid; once jobs no longer
    knows the resident (erased), organisers of the application's area."""
    if actor.role == Role.RESIDENT or resident is not None:
        require_for_resident(actor, resident or {"resident_id": resident_id, "grid_code": ""}, field)
    else:
        require_organiser_in(actor, area_code, field)


def require_school_or_for_resident(
    actor: Principal,
    resident: Mapping[str, Any] | None,
    *,
    resident_id: str,
    partner_id: str,
    area_code: str,
    field: str,
) -> None:
    """Cancelling an enrolment: its school (or organisers), or the resident or staff of her grid."""
    if actor.role == Role.PARTNER:
        require_owner_or_staff(actor, partner_id, area_code, field)
    else:
        require_for_resident(actor, resident or {"resident_id": resident_id, "grid_code": ""}, field)


def require_area_staff(actor: Principal, area: str | None) -> str:
    """Staff read inside their areas; with no `area` given, their first area."""
    actor.require_role(*STAFF)
    chosen = area or (actor.areas[0] if actor.areas else None)
    actor.require_area(chosen, field="area")
    assert chosen is not None
    return chosen


def job_listing_scope(actor: Principal, area: str | None, status: str | None) -> tuple[str | None, str | None]:
    """(area, partner) a job list is limited to: a partner sees its own jobs, staff their
    areas, residents any area's; drafts are for their employer and staff only."""
    partner_id = actor.partner_id if actor.role == Role.PARTNER else None
    if partner_id is None and actor.role != Role.RESIDENT:
        area = require_area_staff(actor, area)
    if status == "draft" and actor.role == Role.RESIDENT:
        raise Forbidden("drafts are visible to their employer and staff only", field="status")
    return area, partner_id


def order_listing_scope(actor: Principal, area: str | None) -> tuple[str | None, str | None]:
    """(area, partner) an order list is limited to: a processor sees its own orders, staff their areas."""
    partner_id = actor.partner_id if actor.role == Role.PARTNER else None
    if partner_id is None:
        area = require_area_staff(actor, area)
    return area, partner_id


def sees_fair_signups(actor: Principal, community_code: str) -> bool:
    """Who signed up for a fair is for its organisers only."""
    return actor.is_staff and actor.can_act_in(community_code)
