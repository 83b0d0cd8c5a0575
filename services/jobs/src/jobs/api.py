"""HTTP API of the jobs service: commands answer `{id, version, position}` (pass
`?after=position` to a query to read your own write); queries read the read models."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any, Literal

from doorstep_shared.auth import CurrentPrincipal, Principal, Role
from doorstep_shared.domain import Forbidden, NotFound, utcnow
from doorstep_shared.inputs import Offset, QueryText
from doorstep_shared.runtime import ConsistentRead, Runtime, RuntimeDep
from doorstep_shared.uow import CommandResult, UnitOfWork
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from jobs import commands as c
from jobs import handlers, views
from jobs.authz import STAFF, require_for_resident, require_owner_or_staff
from jobs.domain.matching import JobFacts, Match, MatchIndex, ResidentFacts

Limit = Annotated[int, Query(ge=1, le=100)]


def _index(runtime: Runtime) -> MatchIndex:
    index: MatchIndex = runtime.extras["match_index"]
    return index


async def _run(
    runtime: Runtime,
    principal: Principal,
    request: Request,
    body: BaseModel | None,
    fn: Callable[[UnitOfWork], Awaitable[CommandResult]],
    status_code: int = 200,
) -> JSONResponse:
    payload = body.model_dump(mode="json") if body is not None else None
    return await runtime.command(fn, principal=principal, request=request, payload=payload, status_code=status_code)


def _found(row: dict[str, Any] | None, what: str, field: str = "id") -> dict[str, Any]:
    if row is None:
        raise NotFound(f"{what} not found", field=field)
    return row


def _require_area_staff(principal: Principal, area: str | None) -> str:
    """Staff read inside their areas; with no `area` given, their first area."""
    principal.require_role(*STAFF)
    chosen = area or (principal.areas[0] if principal.areas else None)
    principal.require_area(chosen, field="area")
    assert chosen is not None
    return chosen


def _match_json(m: Match, index: MatchIndex, side: Literal["job", "resident"]) -> dict[str, Any]:
    out: dict[str, Any] = {"score": m.score, "reasons": m.reasons}
    if side == "job":
        job = index.jobs.get(m.job_id)
        out.update(
            job_id=m.job_id,
            title=job.title if job else None,
            employment_type=job.employment_type if job else None,
            community_code=job.community_code if job else None,
        )
    else:
        r = index.residents.get(m.resident_id)
        out.update(
            resident_id=m.resident_id,
            grid_code=r.grid_code if r else None,
            employment_status=r.employment_status if r else None,
        )
    return out


# postings ------------------------------------------------------------------------------------

postings = APIRouter(tags=["postings"])


@postings.post("/jobs", status_code=201, summary="Post a job (draft, or published with publish=true)")
async def post_job(body: c.PostJob, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request) -> Any:
    now = utcnow()
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.post_job(uow, body, principal, now),
        201,
    )


@postings.post("/jobs/{job_id}/publish", summary="Publish a draft job")
async def publish_job(job_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request) -> Any:
    now = utcnow()
    return await _run(
        runtime,
        principal,
        request,
        None,
        lambda uow: handlers.publish_job(uow, job_id, principal, now),
    )


@postings.post("/jobs/{job_id}/close", summary="Close a job before it is filled or expires")
async def close_job(
    job_id: str, body: c.Reason, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> Any:
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.close_job(uow, job_id, body, principal),
    )


@postings.get("/jobs", summary="Jobs in an area (default: open jobs in your community)")
async def list_jobs(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _consistent: ConsistentRead,
    area: QueryText = None,
    status: Literal["draft", "published", "filled", "closed", "expired"] | None = "published",
    employment_type: QueryText = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    partner_id = principal.partner_id if principal.role == Role.PARTNER else None
    if partner_id is None and principal.role != Role.RESIDENT:
        area = _require_area_staff(principal, area)
    if status == "draft" and principal.role == Role.RESIDENT:
        raise Forbidden("drafts are visible to their employer and staff only", field="status")
    async with runtime.db.session() as s:
        return await views.jobs(
            s,
            area=area,
            status=status,
            employment_type=employment_type,
            partner_id=partner_id,
            limit=limit,
            offset=offset,
        )


@postings.get("/jobs/{job_id}", summary="One job")
async def get_job(job_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _c: ConsistentRead) -> Any:
    async with runtime.db.session() as s:
        return _found(await views.job(s, job_id), "job", "job_id")


@postings.get("/jobs/{job_id}/applications", summary="A job's applications (employer or staff)")
async def job_applications(
    job_id: str,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _c: ConsistentRead,
    status: QueryText = None,
) -> Any:
    async with runtime.db.session() as s:
        job = _found(await views.job(s, job_id), "job", "job_id")
        _require_owner_or_area_staff(principal, job["partner_id"], job["community_code"], "job_id")
        return await views.applications(s, job_id=job_id, status=status)


def _require_owner_or_area_staff(principal: Principal, partner_id: str | None, area: str, field: str) -> None:
    if principal.role == Role.GRID_WORKER:
        principal.require_area(area, field=field)
    else:
        require_owner_or_staff(principal, partner_id, area, field)


# applications -------------------------------------------------------------------------------

applications = APIRouter(tags=["applications"])


@applications.post(
    "/jobs/{job_id}/applications",
    status_code=201,
    summary="Apply (a resident, or their grid worker on their behalf)",
)
async def apply(job_id: str, body: c.Apply, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request) -> Any:
    now = utcnow()
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.apply(uow, job_id, body, principal, now),
        201,
    )


def _step(to: str) -> Callable[..., Awaitable[Any]]:
    async def endpoint(
        application_id: str,
        body: c.Step,
        principal: CurrentPrincipal,
        runtime: RuntimeDep,
        request: Request,
    ) -> Any:
        return await _run(
            runtime,
            principal,
            request,
            body,
            lambda uow: handlers.advance(uow, application_id, to, body, principal),
        )

    return endpoint


applications.add_api_route(
    "/applications/{application_id}/shortlist",
    _step("shortlisted"),
    methods=["POST"],
    summary="Shortlist an application (from applied)",
)
applications.add_api_route(
    "/applications/{application_id}/interview",
    _step("interviewed"),
    methods=["POST"],
    summary="Record the interview (from shortlisted)",
)
applications.add_api_route(
    "/applications/{application_id}/offer",
    _step("offered"),
    methods=["POST"],
    summary="Make an offer (from interviewed)",
)


@applications.post("/applications/{application_id}/hire", summary="Hire (from offered); fills an opening")
async def hire(application_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request) -> Any:
    now = utcnow()
    return await _run(
        runtime,
        principal,
        request,
        None,
        lambda uow: handlers.hire(uow, application_id, principal, now),
    )


@applications.post("/applications/{application_id}/reject", summary="Reject an open application")
async def reject(
    application_id: str,
    body: c.Reason,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> Any:
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.reject(uow, application_id, body, principal),
    )


@applications.post("/applications/{application_id}/withdraw", summary="Withdraw an open application")
async def withdraw(
    application_id: str,
    body: c.Reason,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> Any:
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.withdraw(uow, application_id, body, principal),
    )


@applications.get("/applications/{application_id}", summary="One application")
async def get_application(
    application_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _c: ConsistentRead
) -> Any:
    async with runtime.db.session() as s:
        row = _found(await views.application(s, application_id), "application", "application_id")
        if principal.role == Role.RESIDENT:
            if principal.resident_id != row["resident_id"]:
                raise Forbidden("residents see only their own applications", field="application_id")
        else:
            _require_owner_or_area_staff(principal, row["partner_id"], row["job_community_code"], "application_id")
        return row


@applications.get("/residents/{resident_id}/applications", summary="A resident's applications")
async def resident_applications(
    resident_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _c: ConsistentRead
) -> Any:
    async with runtime.db.session() as s:
        resident = _found(await views.resident(s, resident_id), "resident", "resident_id")
        require_for_resident(principal, resident)
        return await views.applications(s, resident_id=resident_id)


# matching -----------------------------------------------------------------------------------------

matching = APIRouter(tags=["matching"])


@matching.get("/residents/{resident_id}/matches", summary="Best open jobs for a resident, with reasons")
async def matches(resident_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, limit: Limit = 10) -> Any:
    index = _index(runtime)
    facts = index.residents.get(resident_id)
    async with runtime.db.session() as s:
        row = _found(await views.resident(s, resident_id), "resident", "resident_id")
    on_behalf = require_for_resident(principal, row)
    if on_behalf and not row["consent_matching"]:
        raise Forbidden("the resident has not consented to employment matching", field="resident_id")
    facts = facts or ResidentFacts.from_row(row)
    found = index.matches_for(facts, utcnow(), limit)
    return {"resident_id": resident_id, "matches": [_match_json(m, index, "job") for m in found]}


@matching.get("/jobs/{job_id}/candidates", summary="Best consenting residents for a job, with reasons")
async def candidates(job_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, limit: Limit = 20) -> Any:
    index = _index(runtime)
    job = index.jobs.get(job_id)
    if job is None:
        async with runtime.db.session() as s:
            job = JobFacts.from_row(_found(await views.job(s, job_id), "job", "job_id"))
    _require_owner_or_area_staff(principal, job.partner_id, job.community_code, "job_id")
    found = index.candidates_for(job, limit, partner_view=principal.role == Role.PARTNER)
    return {"job_id": job_id, "candidates": [_match_json(m, index, "resident") for m in found]}


@matching.get("/seekers", summary="A grid worker's residents seeking work, with their best matches")
async def seekers(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    grid: QueryText = None,
    matches_each: Annotated[int, Query(ge=0, le=10)] = 3,
) -> Any:
    principal.require_role(*STAFF)
    if grid:
        principal.require_area(grid, field="grid")
    index, now = _index(runtime), utcnow()
    async with runtime.db.session() as s:
        rows = await views.seekers(s, principal.areas, grid)
    out = []
    for row in rows:
        entry: dict[str, Any] = {k: row[k] for k in ("resident_id", "grid_code", "employment_status", "tags")}
        if row["consent_matching"] and matches_each:
            facts = index.residents.get(row["resident_id"]) or ResidentFacts.from_row(row)
            entry["matches"] = [_match_json(m, index, "job") for m in index.matches_for(facts, now, matches_each)]
        else:
            entry["matches"] = []
        out.append(entry)
    return out


# fairs -------------------------------------------------------------------------------------------------

fairs = APIRouter(tags=["fairs"])


@fairs.post("/fairs", status_code=201, summary="Schedule a one-off fair")
async def schedule_fair(
    body: c.ScheduleFair, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> Any:
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.schedule_fair(uow, body, principal),
        201,
    )


@fairs.post("/fairs/series", status_code=201, summary="Schedule recurring fairs from a recurrence rule")
async def schedule_series(
    body: c.ScheduleFairSeries, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> Any:
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.schedule_fair_series(uow, body, principal),
        201,
    )


@fairs.post("/fairs/{fair_id}/employers", summary="An employer takes part in a fair")
async def join_fair(
    fair_id: str,
    body: c.JoinFair,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> Any:
    now = utcnow()
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.join_fair(uow, fair_id, body, principal, now),
    )


@fairs.post("/fairs/{fair_id}/signups", summary="A resident signs up for a fair")
async def sign_up(
    fair_id: str, body: c.SignUp, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> Any:
    now = utcnow()
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.sign_up(uow, fair_id, body, principal, now),
    )


@fairs.post("/fairs/{fair_id}/cancel", summary="Cancel an upcoming fair")
async def cancel_fair(
    fair_id: str, body: c.Reason, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> Any:
    now = utcnow()
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.cancel_fair(uow, fair_id, body, principal, now),
    )


@fairs.get("/fairs", summary="Fairs in an area and date range")
async def list_fairs(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _c: ConsistentRead,
    area: QueryText = None,
    date_from: date | None = Query(None, alias="from"),
    date_to: date | None = Query(None, alias="to"),
    series_id: QueryText = None,
) -> Any:
    async with runtime.db.session() as s:
        return await views.fairs(
            s,
            area=area,
            date_from=date_from.isoformat() if date_from else None,
            date_to=date_to.isoformat() if date_to else None,
            series_id=series_id,
        )


@fairs.get("/fairs/{fair_id}", summary="A fair with its employers, sign-ups (staff) and hires")
async def get_fair(fair_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _c: ConsistentRead) -> Any:
    async with runtime.db.session() as s:
        row = _found(await views.fair(s, fair_id), "fair", "fair_id")
    if not (principal.is_staff and principal.can_act_in(row["community_code"])):
        row.pop("signup_list")  # who signed up is for the organisers only
    return row


# piecework ------------------------------------------------------------------------------------------------

piecework = APIRouter(tags=["piecework"])


@piecework.post("/piecework/orders", status_code=201, summary="A processor places a piecework order")
async def place_order(body: c.PlaceOrder, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request) -> Any:
    now = utcnow()
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.place_order(uow, body, principal, now),
        201,
    )


@piecework.post("/piecework/orders/{order_id}/batches", status_code=201, summary="Issue a material batch")
async def issue_batch(
    order_id: str,
    body: c.IssueBatch,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> Any:
    now = utcnow()
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.issue_batch(uow, order_id, body, principal, now),
        201,
    )


@piecework.post(
    "/piecework/orders/{order_id}/deliveries",
    status_code=201,
    summary="Record a checked delivery (accepted and rejected pieces)",
)
async def deliver(
    order_id: str,
    body: c.Deliver,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> Any:
    now = utcnow()
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.deliver(uow, order_id, body, principal, now),
        201,
    )


@piecework.post(
    "/piecework/orders/{order_id}/settlements",
    status_code=201,
    summary="Pay a resident everything owed on the order",
)
async def settle(
    order_id: str,
    body: c.Settle,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> Any:
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.settle(uow, order_id, body, principal),
        201,
    )


@piecework.post("/piecework/orders/{order_id}/close", summary="Close the order to new batches")
async def close_order(
    order_id: str,
    body: c.Reason,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> Any:
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.close_order(uow, order_id, body, principal),
    )


async def _order_for(runtime: Runtime, principal: Principal, order_id: str) -> dict[str, Any]:
    async with runtime.db.session() as s:
        row = _found(await views.order(s, order_id), "order", "order_id")
    _require_owner_or_area_staff(principal, row["partner_id"], row["community_code"], "order_id")
    return row


@piecework.get("/piecework/orders", summary="Orders of a processor, or in an area for staff")
async def list_orders(
    principal: CurrentPrincipal, runtime: RuntimeDep, _c: ConsistentRead, area: QueryText = None
) -> Any:
    partner_id = principal.partner_id if principal.role == Role.PARTNER else None
    if partner_id is None:
        area = _require_area_staff(principal, area)
    async with runtime.db.session() as s:
        return await views.orders(s, area=area, partner_id=partner_id)


@piecework.get("/piecework/orders/{order_id}", summary="An order's progress")
async def get_order(order_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _c: ConsistentRead) -> Any:
    return await _order_for(runtime, principal, order_id)


@piecework.get(
    "/piecework/orders/{order_id}/residents",
    summary="Pieces and money earned, paid and owed per resident",
)
async def order_residents(order_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _c: ConsistentRead) -> Any:
    await _order_for(runtime, principal, order_id)
    async with runtime.db.session() as s:
        return await views.money_per_resident(s, order_id)


@piecework.get("/piecework/orders/{order_id}/settlements", summary="Payouts, each with the deliveries it paid")
async def order_settlements(order_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _c: ConsistentRead) -> Any:
    await _order_for(runtime, principal, order_id)
    async with runtime.db.session() as s:
        return await views.settlements(s, order_id)


# training ------------------------------------------------------------------------------------------------------

training = APIRouter(tags=["training"])


@training.post("/courses", status_code=201, summary="A training school publishes a course")
async def publish_course(
    body: c.PublishCourse, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> Any:
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.publish_course(uow, body, principal),
        201,
    )


@training.post("/courses/{course_id}/cancel", summary="Cancel a course and its enrolments")
async def cancel_course(
    course_id: str,
    body: c.Reason,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> Any:
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.cancel_course(uow, course_id, body, principal),
    )


@training.post(
    "/courses/{course_id}/enrolments",
    status_code=201,
    summary="Enrol a resident (waiting list when full, unless waitlist=false)",
)
async def enrol(
    course_id: str,
    body: c.Enrol,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> Any:
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.enrol(uow, course_id, body, principal),
        201,
    )


@training.post("/enrolments/{enrolment_id}/attendance", summary="Record attendance at a session")
async def attendance(
    enrolment_id: str,
    body: c.Attendance,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> Any:
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.record_attendance(uow, enrolment_id, body, principal),
    )


@training.post(
    "/enrolments/{enrolment_id}/complete",
    summary="Complete with a certificate (adds a verified skill)",
)
async def complete(
    enrolment_id: str,
    body: c.Complete,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> Any:
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.complete(uow, enrolment_id, body, principal),
    )


@training.post("/enrolments/{enrolment_id}/cancel", summary="Cancel an enrolment; the waiting list moves up")
async def cancel_enrolment(
    enrolment_id: str,
    body: c.Reason,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> Any:
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.cancel_enrolment(uow, enrolment_id, body, principal),
    )


@training.get("/courses", summary="Courses in an area")
async def list_courses(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _c: ConsistentRead,
    area: QueryText = None,
    skill: QueryText = None,
) -> Any:
    async with runtime.db.session() as s:
        return await views.courses(s, area=area, skill=skill)


@training.get("/courses/{course_id}", summary="One course")
async def get_course(course_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _c: ConsistentRead) -> Any:
    async with runtime.db.session() as s:
        return _found(await views.course(s, course_id), "course", "course_id")


@training.get("/courses/{course_id}/roster", summary="A course's roster: enrolled, completed, waiting")
async def roster(course_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _c: ConsistentRead) -> Any:
    async with runtime.db.session() as s:
        course = _found(await views.course(s, course_id), "course", "course_id")
        _require_owner_or_area_staff(principal, course["partner_id"], course["community_code"], "course_id")
        return await views.roster(s, course_id)


@training.get("/enrolments/{enrolment_id}", summary="One enrolment")
async def get_enrolment(enrolment_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, _c: ConsistentRead) -> Any:
    async with runtime.db.session() as s:
        row = _found(await views.enrolment(s, enrolment_id), "enrolment", "enrolment_id")
    if principal.role == Role.RESIDENT:
        if principal.resident_id != row["resident_id"]:
            raise Forbidden("residents see only their own enrolments", field="enrolment_id")
    else:
        _require_owner_or_area_staff(principal, row["partner_id"], row["community_code"], "enrolment_id")
    return row


# leads and totals ------------------------------------------------------------------------------------------------

work = APIRouter(tags=["leads and totals"])


@work.get("/leads", summary="Job-seeker leads in your grids")
async def list_leads(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    _c: ConsistentRead,
    status: Literal["open", "closed"] | None = "open",
) -> Any:
    principal.require_role(*STAFF)
    async with runtime.db.session() as s:
        return await views.leads(s, principal.areas, status)


@work.post("/leads/{lead_id}/close", summary="Close a lead with its outcome")
async def close_lead(
    lead_id: str,
    body: c.CloseLead,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> Any:
    return await _run(
        runtime,
        principal,
        request,
        body,
        lambda uow: handlers.close_lead(uow, lead_id, body, principal),
    )


@work.get("/totals", summary="Per-area totals: postings, applications, hires, piecework pay, completions")
async def totals(principal: CurrentPrincipal, runtime: RuntimeDep, _c: ConsistentRead, area: QueryText = None) -> Any:
    principal.require_role(*STAFF)
    chosen = _require_area_staff(principal, area)
    async with runtime.db.session() as s:
        return await views.totals(s, chosen)


ROUTERS = [postings, applications, matching, fairs, piecework, training, work]
