"""Registration's HTTP API: auth, areas, residents, partners, staff."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from doorstep_shared.auth import CurrentPrincipal, Principal, Role, TokenIssuer, Unauthorized
from doorstep_shared.domain import utcnow
from doorstep_shared.inputs import Offset, QueryText
from doorstep_shared.runtime import ConsistentRead, RuntimeDep
from doorstep_shared.uow import UnitOfWork
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import col

from registration import handlers, views
from registration.commands import (
    AreaCreate,
    AvailabilityUpdate,
    ConsentUpdate,
    EmploymentStatus,
    EmploymentUpdate,
    LoginForm,
    Move,
    MoveOut,
    PartnerCreate,
    ProfileUpdate,
    ResidentCreate,
    SkillsUpdate,
    StaffCreate,
    Suspend,
    Tag,
    TagsUpdate,
    Transfer,
)
from registration.domain.model import Resident
from registration.models import Credential
from registration.security import PiiVault, verify_password

auth_router = APIRouter(prefix="/auth", tags=["auth"])
areas_router = APIRouter(prefix="/areas", tags=["areas"])
residents_router = APIRouter(prefix="/residents", tags=["residents"])
partners_router = APIRouter(prefix="/partners", tags=["partners"])
staff_router = APIRouter(prefix="/staff", tags=["staff"])


class CommandAccepted(BaseModel):
    id: str
    version: int
    position: int = Field(description="Log position; pass as ?after= to read your own write")


async def vault_of(runtime: RuntimeDep) -> PiiVault:
    vault: PiiVault = runtime.extras["vault"]
    return vault


Vault = Annotated[PiiVault, Depends(vault_of)]


# auth --------------------------------------------------------------------------------------


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


@auth_router.post("/token", response_model=Token, summary="Log in (OAuth2 password flow)")
async def login(form: Annotated[LoginForm, Form()], runtime: RuntimeDep) -> Token:
    async with runtime.db.session() as s:
        cred = (
            await s.execute(select(Credential).where(col(Credential.username) == form.username))
        ).scalar_one_or_none()
    if cred is None or not verify_password(form.password, cred.password_hash):
        raise Unauthorized("wrong username or password")
    areas = tuple(cred.areas) or (("",) if cred.role == Role.CITY_ADMIN else ())
    issuer: TokenIssuer = runtime.extras["issuer"]
    token = issuer.issue(Principal(subject=cred.staff_id, role=Role(cred.role), areas=areas, name=cred.username))
    return Token(access_token=token)


@auth_router.get("/me", summary="Who the token belongs to")
async def me(principal: CurrentPrincipal) -> dict[str, Any]:
    return {
        "subject": principal.subject,
        "role": principal.role,
        "areas": list(principal.areas),
        "name": principal.name,
        "partner_id": principal.partner_id,
    }


# areas -------------------------------------------------------------------------------------


@areas_router.post("", status_code=201, response_model=CommandAccepted)
async def create_area(
    body: AreaCreate, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> JSONResponse:
    cmd = handlers.CreateArea(**body.model_dump())
    return await runtime.command(
        lambda uow: handlers.create_area(uow, cmd, principal),
        principal=principal,
        request=request,
        payload=body.model_dump(),
    )


@areas_router.get("/{code}", summary="An area with its children and resident counts")
async def get_area(code: str, principal: CurrentPrincipal, runtime: RuntimeDep, _: ConsistentRead) -> dict[str, Any]:
    async with runtime.db.session() as s:
        return await views.get_area(s, code)


# residents ---------------------------------------------------------------------------------


@residents_router.post("", status_code=201, response_model=CommandAccepted)
async def register_resident(
    body: ResidentCreate,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    vault: Vault,
    request: Request,
) -> JSONResponse:
    cmd = handlers.RegisterResident(**body.model_dump())
    today = utcnow().date()
    return await runtime.command(
        lambda uow: handlers.register_resident(uow, vault, cmd, principal, today),
        principal=principal,
        request=request,
        payload=body.model_dump(),
    )


@residents_router.get(
    "/{resident_id}",
    summary="A resident (ID number and phone masked unless you are their grid worker or community staff)",
)
async def get_resident(
    resident_id: str,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    vault: Vault,
    _: ConsistentRead,
) -> dict[str, Any]:
    async with runtime.db.session() as s:
        return await views.get_resident(s, vault, resident_id, principal)


@residents_router.get("", summary="Residents in your areas, filtered and paginated")
async def list_residents(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    vault: Vault,
    _: ConsistentRead,
    community_code: QueryText = None,
    grid_code: QueryText = None,
    tag: Tag | None = None,
    employment_status: EmploymentStatus | None = None,
    skill: QueryText = None,
    status: Literal["active", "moved_out", "erased"] | None = "active",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    async with runtime.db.session() as s:
        return await views.list_residents(
            s,
            vault,
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


@residents_router.get("/{resident_id}/history", summary="The resident's events (personal fields stay sealed)")
async def resident_history(resident_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> list[dict[str, Any]]:
    async with runtime.db.session() as s:
        events = await runtime.store.history(s, resident_id)
        if not events:
            return []
        await handlers.load_resident_in_scope(UnitOfWork(s, runtime.store, {}), resident_id, principal)
    return [
        {
            "position": e.position,
            "version": e.version,
            "type": e.event_type,
            "time": e.recorded_at,
            "actor": e.meta.get("actor"),
            "data": e.data,
        }
        for e in events
    ]


@residents_router.patch("/{resident_id}", response_model=CommandAccepted, summary="Update profile fields")
async def update_profile(
    resident_id: str,
    body: ProfileUpdate,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    vault: Vault,
    request: Request,
) -> JSONResponse:
    changes = body.model_dump(exclude_unset=True)
    return await runtime.command(
        lambda uow: handlers.update_profile(uow, vault, resident_id, dict(changes), principal),
        principal=principal,
        request=request,
        payload=changes,
        status_code=200,
    )


async def _act(
    runtime: RuntimeDep,
    request: Request,
    principal: Principal,
    resident_id: str,
    payload: Any,
    action: Any,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.act_on_resident(uow, resident_id, principal, action),
        principal=principal,
        request=request,
        payload=payload,
        status_code=200,
    )


@residents_router.put("/{resident_id}/skills", response_model=CommandAccepted)
async def update_skills(
    resident_id: str,
    body: SkillsUpdate,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> JSONResponse:
    return await _act(
        runtime,
        request,
        principal,
        resident_id,
        body.model_dump(),
        lambda r: r.update_skills(body.skills),
    )


@residents_router.put("/{resident_id}/availability", response_model=CommandAccepted)
async def update_availability(
    resident_id: str,
    body: AvailabilityUpdate,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> JSONResponse:
    windows = [w.model_dump() for w in body.availability]
    return await _act(runtime, request, principal, resident_id, windows, lambda r: r.update_availability(windows))


@residents_router.put("/{resident_id}/tags", response_model=CommandAccepted)
async def update_tags(
    resident_id: str,
    body: TagsUpdate,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> JSONResponse:
    return await _act(
        runtime,
        request,
        principal,
        resident_id,
        body.model_dump(),
        lambda r: r.update_tags(list(body.tags)),
    )


@residents_router.put(
    "/{resident_id}/consent",
    response_model=CommandAccepted,
    summary="Give or revoke consent (PIPL)",
)
async def change_consent(
    resident_id: str,
    body: ConsentUpdate,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> JSONResponse:
    consent = body.model_dump(exclude_none=True)
    return await _act(runtime, request, principal, resident_id, consent, lambda r: r.change_consent(consent))


@residents_router.put("/{resident_id}/employment-status", response_model=CommandAccepted)
async def change_employment(
    resident_id: str,
    body: EmploymentUpdate,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> JSONResponse:
    def action(r: Resident) -> None:
        r.change_employment_status(body.employment_status, body.reason)

    return await _act(runtime, request, principal, resident_id, body.model_dump(), action)


@residents_router.post("/{resident_id}/move", response_model=CommandAccepted, summary="Move within the community")
async def move(
    resident_id: str, body: Move, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.move_within(uow, resident_id, body.grid_code, body.building, body.unit, principal),
        principal=principal,
        request=request,
        payload=body.model_dump(),
        status_code=200,
    )


@residents_router.post(
    "/{resident_id}/transfer",
    response_model=CommandAccepted,
    summary="Transfer to another community",
)
async def transfer(
    resident_id: str,
    body: Transfer,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.transfer_resident(
            uow,
            resident_id,
            body.community_code,
            body.grid_code,
            body.building,
            body.unit,
            principal,
        ),
        principal=principal,
        request=request,
        payload=body.model_dump(),
        status_code=200,
    )


@residents_router.post("/{resident_id}/move-out", response_model=CommandAccepted)
async def move_out(
    resident_id: str,
    body: MoveOut,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.move_out(uow, resident_id, body.reason, principal),
        principal=principal,
        request=request,
        payload=body.model_dump(),
        status_code=200,
    )


@residents_router.post(
    "/{resident_id}/erase",
    response_model=CommandAccepted,
    summary="Erase personal data (destroys the data key)",
)
async def erase(
    resident_id: str,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    vault: Vault,
    request: Request,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.erase_resident(uow, vault, resident_id, principal),
        principal=principal,
        request=request,
        payload={"erase": resident_id},
        status_code=200,
    )


# partners ----------------------------------------------------------------------------------


@partners_router.post("", status_code=201, response_model=CommandAccepted)
async def register_partner(
    body: PartnerCreate, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> JSONResponse:
    cmd = handlers.RegisterPartner(**body.model_dump())
    return await runtime.command(
        lambda uow: handlers.register_partner(uow, cmd, principal),
        principal=principal,
        request=request,
        payload=body.model_dump(),
    )


@partners_router.post("/{partner_id}/approve", summary="Approve; the answer carries the API key, shown once")
async def approve_partner(
    partner_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.approve_partner(uow, partner_id, principal),
        principal=principal,
        request=request,
        payload={"approve": partner_id},
        status_code=200,
    )


@partners_router.post("/{partner_id}/rotate-key", summary="Issue a new API key; the old one stops working")
async def rotate_key(
    partner_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.rotate_partner_key(uow, partner_id, principal),
        principal=principal,
        request=request,
        payload={"rotate": partner_id},
        status_code=200,
    )


@partners_router.post("/{partner_id}/suspend", response_model=CommandAccepted)
async def suspend_partner(
    partner_id: str,
    body: Suspend,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> JSONResponse:
    return await runtime.command(
        lambda uow: handlers.suspend_partner(uow, partner_id, body.reason, principal),
        principal=principal,
        request=request,
        payload=body.model_dump(),
        status_code=200,
    )


@partners_router.get("")
async def list_partners(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _: ConsistentRead,
    kind: QueryText = None,
    status: QueryText = None,
) -> list[dict[str, Any]]:
    async with runtime.db.session() as s:
        return await views.list_partners(s, principal, kind, status)


@partners_router.get("/{partner_id}")
async def get_partner(
    partner_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _: ConsistentRead
) -> dict[str, Any]:
    async with runtime.db.session() as s:
        return await views.get_partner(s, partner_id, principal)


# staff -------------------------------------------------------------------------------------


@staff_router.post("", status_code=201, response_model=CommandAccepted)
async def create_staff(
    body: StaffCreate, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> JSONResponse:
    cmd = handlers.CreateStaff(**body.model_dump())
    return await runtime.command(
        lambda uow: handlers.create_staff(uow, cmd, principal),
        principal=principal,
        request=request,
        payload=body.model_dump(exclude={"password"}),
    )


@staff_router.get("")
async def list_staff(principal: CurrentPrincipal, runtime: RuntimeDep, _: ConsistentRead) -> list[dict[str, Any]]:
    async with runtime.db.session() as s:
        return await views.list_staff(s, principal)


routers = [auth_router, areas_router, residents_router, partners_router, staff_router]
