"""Matching: best jobs for a resident, best residents for a job, a grid's job seekers."""

from __future__ import annotations

from typing import Annotated

from doorstep_shared.auth import CurrentPrincipal, Role
from doorstep_shared.inputs import AreaCodeQuery
from fastapi import APIRouter, Query

from jobs.authz import STAFF, require_matching_consent, require_owner_or_area_staff
from jobs.deps import Deps
from jobs.views import matching, residents
from jobs.views.common import Row, found
from jobs.views.matching import JobCandidates, ResidentMatches, Seeker

router = APIRouter(tags=["matching"])

Limit = Annotated[int, Query(ge=1, le=100)]


@router.get(
    "/residents/{resident_id}/matches",
    response_model=ResidentMatches,
    summary="Best open jobs for a resident, with reasons",
)
async def matches(resident_id: str, principal: CurrentPrincipal, deps: Deps, limit: Limit = 10) -> Row:
    async with deps.db.session() as s:
        row = found(await residents.resident(s, resident_id), "resident", "resident_id")
    require_matching_consent(principal, row)
    return {"resident_id": resident_id, "matches": matching.matches(deps.match_index, row, deps.now(), limit)}


@router.get(
    "/jobs/{job_id}/candidates",
    response_model=JobCandidates,
    summary="Best consenting residents for a job, with reasons",
)
async def candidates(job_id: str, principal: CurrentPrincipal, deps: Deps, limit: Limit = 20) -> Row:
    job = await matching.job_facts(deps.db, deps.match_index, job_id)
    require_owner_or_area_staff(principal, job.partner_id, job.community_code, "job_id")
    partner_view = principal.role == Role.PARTNER
    return {
        "job_id": job_id,
        "candidates": matching.candidates(deps.match_index, job, limit, partner_view=partner_view),
    }


@router.get(
    "/seekers",
    response_model=list[Seeker],
    summary="A grid worker's residents seeking work, with their best matches",
)
async def seekers(
    principal: CurrentPrincipal,
    deps: Deps,
    grid: AreaCodeQuery | None = None,
    matches_each: Annotated[int, Query(ge=0, le=10)] = 3,
) -> list[Row]:
    principal.require_role(*STAFF)
    if grid:
        principal.require_area(grid, field="grid")
    async with deps.db.session() as s:
        rows = await residents.seekers(s, principal.areas, grid)
    return matching.seekers(deps.match_index, rows, deps.now(), matches_each)
