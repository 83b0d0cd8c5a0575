"""Partners (employers, processors, schools): registered, approved with an API key, suspended."""

from __future__ import annotations

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.commands import CommandAccepted, Dispatch
from doorstep_shared.inputs import QueryText
from doorstep_shared.runtime import ConsistentRead, RuntimeDep
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from registration import views
from registration.commands import ApprovePartner, RegisterPartner, RotatePartnerKey, SuspendPartner
from registration.schemas import PartnerKeyIssued, PartnerView

partners_router = APIRouter(prefix="/partners", tags=["partners"])


@partners_router.post("", status_code=201, response_model=CommandAccepted)
async def register_partner(body: RegisterPartner, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body)


@partners_router.post(
    "/{partner_id}/approve",
    response_model=PartnerKeyIssued,
    summary="Approve; the answer carries the API key, shown once",
)
async def approve_partner(partner_id: str, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(ApprovePartner(partner_id=partner_id), status_code=200)


@partners_router.post(
    "/{partner_id}/rotate-key",
    response_model=PartnerKeyIssued,
    summary="Issue a new API key; the old one stops working",
)
async def rotate_key(partner_id: str, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(RotatePartnerKey(partner_id=partner_id), status_code=200)


@partners_router.post("/{partner_id}/suspend", response_model=CommandAccepted)
async def suspend_partner(partner_id: str, body: SuspendPartner, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(partner_id=partner_id), status_code=200)


@partners_router.get("", response_model=list[PartnerView])
async def list_partners(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _: ConsistentRead,
    kind: QueryText = None,
    status: QueryText = None,
) -> list[PartnerView]:
    async with runtime.db.session() as s:
        return await views.list_partners(s, principal, kind, status)


@partners_router.get("/{partner_id}", response_model=PartnerView)
async def get_partner(
    partner_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _: ConsistentRead
) -> PartnerView:
    async with runtime.db.session() as s:
        return await views.get_partner(s, partner_id, principal)
