"""Applications: residents (or their grid workers) apply; employers move them to a hire."""

from __future__ import annotations

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.commands import Dispatch
from doorstep_shared.runtime import ConsistentRead
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from jobs.authz import require_for_resident, require_party
from jobs.commands.applications import (
    ApplicationAccepted,
    ApplyForJob,
    HireAccepted,
    HireApplicant,
    MakeOffer,
    RecordInterview,
    RejectApplication,
    ShortlistApplication,
    WithdrawApplication,
)
from jobs.deps import Deps
from jobs.views import applications, residents
from jobs.views.applications import ApplicationView
from jobs.views.common import Row, found

router = APIRouter(tags=["applications"])


@router.post(
    "/jobs/{job_id}/applications",
    status_code=201,
    response_model=ApplicationAccepted,
    summary="Apply (a resident, or their grid worker on their behalf)",
)
async def apply(job_id: str, body: ApplyForJob, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(job_id=job_id), status_code=201)


@router.post(
    "/applications/{application_id}/shortlist",
    response_model=ApplicationAccepted,
    summary="Shortlist an application (from applied)",
)
async def shortlist(application_id: str, body: ShortlistApplication, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(application_id=application_id), status_code=200)


@router.post(
    "/applications/{application_id}/interview",
    response_model=ApplicationAccepted,
    summary="Record the interview (from shortlisted)",
)
async def interview(application_id: str, body: RecordInterview, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(application_id=application_id), status_code=200)


@router.post(
    "/applications/{application_id}/offer",
    response_model=ApplicationAccepted,
    summary="Make an offer (from interviewed)",
)
async def offer(application_id: str, body: MakeOffer, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(application_id=application_id), status_code=200)


@router.post(
    "/applications/{application_id}/hire",
    response_model=HireAccepted,
    summary="Hire (from offered); fills an opening",
)
async def hire(application_id: str, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(HireApplicant(application_id=application_id), status_code=200)


@router.post(
    "/applications/{application_id}/reject",
    response_model=ApplicationAccepted,
    summary="Reject an open application",
)
async def reject(application_id: str, body: RejectApplication, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(application_id=application_id), status_code=200)


@router.post(
    "/applications/{application_id}/withdraw",
    response_model=ApplicationAccepted,
    summary="Withdraw an open application",
)
async def withdraw(application_id: str, body: WithdrawApplication, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(application_id=application_id), status_code=200)


@router.get("/applications/{application_id}", response_model=ApplicationView, summary="One application")
async def get_application(application_id: str, principal: CurrentPrincipal, deps: Deps, _c: ConsistentRead) -> Row:
    async with deps.db.session() as s:
        row = found(await applications.application(s, application_id), "application", "application_id")
    require_party(
        principal,
        resident_id=row["resident_id"],
        partner_id=row["partner_id"],
        area_code=row["job_community_code"],
        what="applications",
        field="application_id",
    )
    return row


@router.get(
    "/residents/{resident_id}/applications",
    response_model=list[ApplicationView],
    summary="A resident's applications",
)
async def resident_applications(
    resident_id: str, principal: CurrentPrincipal, deps: Deps, _c: ConsistentRead
) -> list[Row]:
    async with deps.db.session() as s:
        resident = found(await residents.resident(s, resident_id), "resident", "resident_id")
        require_for_resident(principal, resident)
        return await applications.applications(s, resident_id=resident_id)
