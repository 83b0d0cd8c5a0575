"""Staff accounts: created, disabled, enabled and reset by those above them, listed by area."""

from __future__ import annotations

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.commands import CommandAccepted, Dispatch
from doorstep_shared.runtime import ConsistentRead, RuntimeDep
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from registration import views
from registration.commands import CreateStaff, DisableStaff, EnableStaff, ResetStaffPassword
from registration.schemas import StaffView

staff_router = APIRouter(prefix="/staff", tags=["staff"])


@staff_router.post("", status_code=201, response_model=CommandAccepted)
async def create_staff(body: CreateStaff, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body)


@staff_router.post("/{staff_id}/disable", response_model=CommandAccepted, summary="Stop the account signing in")
async def disable_staff(staff_id: str, dispatch: Dispatch, body: DisableStaff | None = None) -> JSONResponse:
    cmd = body.targeting(staff_id=staff_id) if body else DisableStaff(staff_id=staff_id)
    return await dispatch(cmd, status_code=200)


@staff_router.post("/{staff_id}/enable", response_model=CommandAccepted)
async def enable_staff(staff_id: str, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(EnableStaff(staff_id=staff_id), status_code=200)


@staff_router.post("/{staff_id}/password", response_model=CommandAccepted, summary="Reset the account's password")
async def reset_password(staff_id: str, body: ResetStaffPassword, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(staff_id=staff_id), status_code=200)


@staff_router.get("", response_model=list[StaffView])
async def list_staff(principal: CurrentPrincipal, runtime: RuntimeDep, _: ConsistentRead) -> list[StaffView]:
    async with runtime.db.session() as s:
        return await views.list_staff(s, principal)
