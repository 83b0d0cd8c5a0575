"""Leaderboards and an area's volunteering figures."""

from __future__ import annotations

from typing import Annotated, Any

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.runtime import ConsistentRead
from fastapi import APIRouter, Path, Query

from volunteering import authz
from volunteering.api.params import AreaCode, Since, Until
from volunteering.commands import AREA_CODE
from volunteering.deps import Deps
from volunteering.schemas import AreaFigures, LeaderboardRow
from volunteering.views import figures as views
from volunteering.views.common import area_to_read

figures_router = APIRouter(tags=["figures"])


@figures_router.get(
    "/leaderboard", response_model=list[LeaderboardRow], summary="Top volunteers of an area by hours or points"
)
async def leaderboard(
    principal: CurrentPrincipal,
    deps: Deps,
    _: ConsistentRead,
    area_code: AreaCode | None = None,
    by: views.Ranking = "hours",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict[str, Any]]:
    async with deps.db.session() as s:
        area = await area_to_read(s, principal, area_code)
        return await views.leaderboard(s, area, by, limit)


@figures_router.get("/areas/{area_code}/figures", response_model=AreaFigures, summary="Volunteering figures of an area")
async def figures(
    area_code: Annotated[str, Path(pattern=AREA_CODE)],
    principal: CurrentPrincipal,
    deps: Deps,
    _: ConsistentRead,
    since: Since = None,
    until: Until = None,
) -> dict[str, Any]:
    authz.require_reader(principal, area_code)
    async with deps.db.session() as s:
        return await views.figures(s, area_code, since, until)
