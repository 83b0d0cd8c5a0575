"""Residents as jobs knows them: its copy of registration's directory."""

from __future__ import annotations

from typing import Any

from doorstep_shared.domain import Conflict, NotFound
from doorstep_shared.uow import UnitOfWork

from jobs.views.residents import resident


async def active_resident(uow: UnitOfWork, resident_id: str) -> dict[str, Any]:
    """A resident jobs knows and who still lives here (not moved out)."""
    row = await resident(uow.session, resident_id)
    if row is None:
        raise NotFound(f"resident {resident_id} is not known to jobs", field="resident_id")
    if row["status"] != "active":
        raise Conflict(f"resident {resident_id} has {row['status'].replace('_', ' ')}", field="resident_id")
    return row
