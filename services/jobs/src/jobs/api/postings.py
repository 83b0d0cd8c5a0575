"""Postings: employers and organisers post, publish and close jobs; anyone signed in reads them."""

from __future__ import annotations

from typing import Annotated

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.commands import Dispatch
from doorstep_shared.inputs import AreaCodeQuery, Offset, QueryText
from doorstep_shared.runtime import ConsistentRead
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from jobs.authz import job_listing_scope, require_owner_or_area_staff
from jobs.commands.postings import CloseJob, PostingAccepted, PostJob, PublishJob
from jobs.deps import Deps
from jobs.domain.postings import PostingStatus
from jobs.views import applications, postings
from jobs.views.applications import ApplicationView
from jobs.views.common import Row, found
from jobs.views.postings import JobView

router = APIRouter(tags=["postings"])


@router.post(
    "/jobs",
    status_code=201,
    response_model=PostingAccepted,
    summary="Post a job (draft, or published with publish=true)",
)
async def post_job(body: PostJob, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body, status_code=201)


@router.post("/jobs/{job_id}/publish", response_model=PostingAccepted, summary="Publish a draft job")
async def publish_job(job_id: str, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(PublishJob(job_id=job_id), status_code=200)


@router.post(
    "/jobs/{job_id}/close",
    response_model=PostingAccepted,
    summary="Close a job before it is filled or expires",
)
async def close_job(job_id: str, body: CloseJob, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(job_id=job_id), status_code=200)


@router.get("/jobs", response_model=list[JobView], summary="Jobs in an area (default: open jobs in your community)")
async def list_jobs(
    principal: CurrentPrincipal,
    deps: Deps,
    _consistent: ConsistentRead,
    area: AreaCodeQuery | None = None,
    status: PostingStatus | None = "published",
    employment_type: QueryText = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[Row]:
    area, partner_id = job_listing_scope(principal, area, status)
    async with deps.db.session() as s:
        return await postings.jobs(
            s,
            area=area,
            status=status,
            employment_type=employment_type,
            partner_id=partner_id,
            limit=limit,
            offset=offset,
        )


@router.get("/jobs/{job_id}", response_model=JobView, summary="One job")
async def get_job(job_id: str, principal: CurrentPrincipal, deps: Deps, _c: ConsistentRead) -> Row:
    async with deps.db.session() as s:
        return found(await postings.job(s, job_id), "job", "job_id")


@router.get(
    "/jobs/{job_id}/applications",
    response_model=list[ApplicationView],
    summary="A job's applications (employer or staff)",
)
async def job_applications(
    job_id: str,
    principal: CurrentPrincipal,
    deps: Deps,
    _c: ConsistentRead,
    status: QueryText = None,
) -> list[Row]:
    async with deps.db.session() as s:
        job = found(await postings.job(s, job_id), "job", "job_id")
        require_owner_or_area_staff(principal, job["partner_id"], job["community_code"], "job_id")
        return await applications.applications(s, job_id=job_id, status=status)
