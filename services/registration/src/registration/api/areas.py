"""The area tree: city, district, street, community, grid (each code its parent's plus one segment)."""

from __future__ import annotations

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.commands import CommandAccepted, Dispatch
from doorstep_shared.runtime import ConsistentRead, RuntimeDep
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from registration import views
from registration.commands import CreateArea
from registration.schemas import AreaView

areas_router = APIRouter(prefix="/areas", tags=["areas"])


@areas_router.post("", status_code=201, response_model=CommandAccepted)
async def create_area(body: CreateArea, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body)


@areas_router.get("/{code}", response_model=AreaView, summary="An area with its children and resident counts")
async def get_area(code: str, principal: CurrentPrincipal, runtime: RuntimeDep, _: ConsistentRead) -> AreaView:
    async with runtime.db.session() as s:
        return await views.get_area(s, code)
