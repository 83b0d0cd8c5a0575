"""Staff accounts: created by area admins and community staff, listed by area."""

from __future__ import annotations

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.commands import CommandAccepted, Dispatch
from doorstep_shared.runtime import ConsistentRead, RuntimeDep
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from registration import views
from registration.commands import CreateStaff
from registration.schemas import StaffView

staff_router = APIRouter(prefix="/staff", tags=["staff"])


@staff_router.post("", status_code=201, response_model=CommandAccepted)
async def create_staff(body: CreateStaff, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body)


@staff_router.get("", response_model=list[StaffView])
async def list_staff(principal: CurrentPrincipal, runtime: RuntimeDep, _: ConsistentRead) -> list[StaffView]:
    async with runtime.db.session() as s:
        return await views.list_staff(s, principal)
