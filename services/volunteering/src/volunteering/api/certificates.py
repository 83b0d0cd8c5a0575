"""The volunteer service record certificate, as JSON and as a printable page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from doorstep_shared.auth import CurrentPrincipal, Principal
from doorstep_shared.runtime import ConsistentRead
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from volunteering import certificate
from volunteering.api.params import Id, Since, Until
from volunteering.deps import Deps, VolunteeringDeps
from volunteering.schemas import Certificate
from volunteering.views.common import require_volunteer_reader
from volunteering.views.volunteers import certificate_records

certificates_router = APIRouter(prefix="/volunteers", tags=["volunteers and ledger"])


async def _certificate(
    deps: VolunteeringDeps, principal: Principal, resident_id: str, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    """The certificate as of the service clock's now, for those who may read the volunteer's record."""
    async with deps.db.session() as s:
        await require_volunteer_reader(s, principal, resident_id)
        records = await certificate_records(s, resident_id, since, until)
    return certificate.build(resident_id, records, issued_at=deps.now(), since=since, until=until)


@certificates_router.get(
    "/{resident_id}/certificate", response_model=Certificate, summary="Volunteer service record (JSON)"
)
async def certificate_json(
    resident_id: Id,
    principal: CurrentPrincipal,
    deps: Deps,
    _: ConsistentRead,
    since: Since = None,
    until: Until = None,
) -> dict[str, Any]:
    return await _certificate(deps, principal, resident_id, since, until)


@certificates_router.get(
    "/{resident_id}/certificate.html",
    response_class=HTMLResponse,
    summary="Volunteer service record (printable)",
)
async def certificate_html(
    resident_id: Id,
    principal: CurrentPrincipal,
    deps: Deps,
    _: ConsistentRead,
    since: Since = None,
    until: Until = None,
) -> HTMLResponse:
    return HTMLResponse(certificate.render_html(await _certificate(deps, principal, resident_id, since, until)))
