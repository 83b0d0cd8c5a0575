"""Residents: registered, updated, moved, moved out and erased by the staff of their areas.

A command whose resident is named by the path takes it from there
(`body.targeting(resident_id=...)`; a path id is never validated into a
command, so an unknown one of any length is a 404).
"""

from __future__ import annotations

from typing import Annotated

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.commands import CommandAccepted, Dispatch
from doorstep_shared.inputs import AreaCodeQuery, Offset, QueryText
from doorstep_shared.runtime import ConsistentRead, RuntimeDep
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from registration import views
from registration.commands import (
    ChangeConsent,
    ChangeEmploymentStatus,
    EraseResident,
    MoveOut,
    MoveWithinCommunity,
    RegisterResident,
    TransferResident,
    UpdateAvailability,
    UpdateProfile,
    UpdateSkills,
    UpdateTags,
)
from registration.deps import Deps
from registration.domain.enums import EmploymentStatus, ResidentStatus, Tag
from registration.schemas import HistoryEntry, ResidentPage, ResidentView

residents_router = APIRouter(prefix="/residents", tags=["residents"])


# reads ---------------------------------------------------------------------------------------


@residents_router.get(
    "/{resident_id}",
    response_model=ResidentView,
    summary="A resident (ID number and phone masked unless you are their grid worker or community staff)",
)
async def get_resident(
    resident_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, deps: Deps, _: ConsistentRead
) -> ResidentView:
    async with runtime.db.session() as s:
        return await views.get_resident(s, deps.vault, resident_id, principal)


@residents_router.get("", response_model=ResidentPage, summary="Residents in your areas, filtered and paginated")
async def list_residents(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    deps: Deps,
    _: ConsistentRead,
    community_code: AreaCodeQuery | None = None,
    grid_code: AreaCodeQuery | None = None,
    tag: Tag | None = None,
    employment_status: EmploymentStatus | None = None,
    skill: QueryText = None,
    status: ResidentStatus | None = ResidentStatus.ACTIVE,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> ResidentPage:
    async with runtime.db.session() as s:
        return await views.list_residents(
            s,
            deps.vault,
            principal,
            community_code=community_code,
            grid_code=grid_code,
            tag=tag,
            employment_status=employment_status,
            skill=skill,
            status=status,
            limit=limit,
            offset=offset,
        )


@residents_router.get(
    "/{resident_id}/history",
    response_model=list[HistoryEntry],
    summary="The resident's events (personal fields stay sealed)",
)
async def resident_history(resident_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> list[HistoryEntry]:
    async with runtime.db.session() as s:
        return await views.resident_history(s, runtime.store, resident_id, principal)


# commands ------------------------------------------------------------------------------------


@residents_router.post("", status_code=201, response_model=CommandAccepted)
async def register_resident(body: RegisterResident, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body)


@residents_router.patch("/{resident_id}", response_model=CommandAccepted, summary="Update profile fields")
async def update_profile(resident_id: str, body: UpdateProfile, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(resident_id=resident_id), status_code=200)


@residents_router.put("/{resident_id}/skills", response_model=CommandAccepted)
async def update_skills(resident_id: str, body: UpdateSkills, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(resident_id=resident_id), status_code=200)


@residents_router.put("/{resident_id}/availability", response_model=CommandAccepted)
async def update_availability(resident_id: str, body: UpdateAvailability, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(resident_id=resident_id), status_code=200)


@residents_router.put("/{resident_id}/tags", response_model=CommandAccepted)
async def update_tags(resident_id: str, body: UpdateTags, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(resident_id=resident_id), status_code=200)


@residents_router.put("/{resident_id}/consent", response_model=CommandAccepted, summary="Give or revoke consent (PIPL)")
async def change_consent(resident_id: str, body: ChangeConsent, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(resident_id=resident_id), status_code=200)


@residents_router.put("/{resident_id}/employment-status", response_model=CommandAccepted)
async def change_employment(resident_id: str, body: ChangeEmploymentStatus, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(resident_id=resident_id), status_code=200)


@residents_router.post("/{resident_id}/move", response_model=CommandAccepted, summary="Move within the community")
async def move(resident_id: str, body: MoveWithinCommunity, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(resident_id=resident_id), status_code=200)


@residents_router.post(
    "/{resident_id}/transfer", response_model=CommandAccepted, summary="Transfer to another community"
)
async def transfer(resident_id: str, body: TransferResident, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(resident_id=resident_id), status_code=200)


@residents_router.post("/{resident_id}/move-out", response_model=CommandAccepted)
async def move_out(resident_id: str, body: MoveOut, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(resident_id=resident_id), status_code=200)


@residents_router.post(
    "/{resident_id}/erase",
    response_model=CommandAccepted,
    summary="Erase personal data (destroys the data key)",
)
async def erase(resident_id: str, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(EraseResident(resident_id=resident_id), status_code=200)
