"""Who may do what: partners act only for their own jobs, orders and courses;
staff act inside their areas; residents act for themselves."""

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


def require_owner_or_staff(actor: Principal, partner_id: str | None, area_code: str, field: str) -> None:
    """The owning partner, or organising staff whose area holds `area_code`."""
    if actor.role == Role.PARTNER:
        if partner_id is None or actor.partner_id != partner_id:
            raise Forbidden("this belongs to another partner", field=field)
        return
    actor.require_role(*ORGANISERS)
    actor.require_area(area_code, field=field)


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
