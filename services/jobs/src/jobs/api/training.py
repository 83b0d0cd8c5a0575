"""Training: schools publish courses and record attendance; residents enrol."""

from __future__ import annotations

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.commands import CommandAccepted, Dispatch
from doorstep_shared.inputs import AreaCodeQuery, QueryText
from doorstep_shared.runtime import ConsistentRead
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from jobs.authz import require_owner_or_area_staff, require_party
from jobs.commands.training import (
    CancelCourse,
    CancelEnrolment,
    CompleteEnrolment,
    Enrol,
    EnrolmentAccepted,
    PublishCourse,
    RecordAttendance,
)
from jobs.deps import Deps
from jobs.views import training
from jobs.views.common import Row, found
from jobs.views.training import CourseView, EnrolmentView

router = APIRouter(tags=["training"])


@router.post(
    "/courses",
    status_code=201,
    response_model=CommandAccepted,
    summary="A training school publishes a course",
)
async def publish_course(body: PublishCourse, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body, status_code=201)


@router.post(
    "/courses/{course_id}/cancel",
    response_model=CommandAccepted,
    summary="Cancel a course and its enrolments",
)
async def cancel_course(course_id: str, body: CancelCourse, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(course_id=course_id), status_code=200)


@router.post(
    "/courses/{course_id}/enrolments",
    status_code=201,
    response_model=EnrolmentAccepted,
    summary="Enrol a resident (waiting list when full, unless waitlist=false)",
)
async def enrol(course_id: str, body: Enrol, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(course_id=course_id), status_code=201)


@router.post(
    "/enrolments/{enrolment_id}/attendance",
    response_model=EnrolmentAccepted,
    summary="Record attendance at a session",
)
async def attendance(enrolment_id: str, body: RecordAttendance, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(enrolment_id=enrolment_id), status_code=200)


@router.post(
    "/enrolments/{enrolment_id}/complete",
    response_model=EnrolmentAccepted,
    summary="Complete with a certificate (adds a verified skill)",
)
async def complete(enrolment_id: str, body: CompleteEnrolment, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(enrolment_id=enrolment_id), status_code=200)


@router.post(
    "/enrolments/{enrolment_id}/cancel",
    response_model=EnrolmentAccepted,
    summary="Cancel an enrolment; the waiting list moves up",
)
async def cancel_enrolment(enrolment_id: str, body: CancelEnrolment, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body.targeting(enrolment_id=enrolment_id), status_code=200)


@router.get("/courses", response_model=list[CourseView], summary="Courses in an area")
async def list_courses(
    principal: CurrentPrincipal,
    deps: Deps,
    _c: ConsistentRead,
    area: AreaCodeQuery | None = None,
    skill: QueryText = None,
) -> list[Row]:
    async with deps.db.session() as s:
        return await training.courses(s, area=area, skill=skill)


@router.get("/courses/{course_id}", response_model=CourseView, summary="One course")
async def get_course(course_id: str, principal: CurrentPrincipal, deps: Deps, _c: ConsistentRead) -> Row:
    async with deps.db.session() as s:
        return found(await training.course(s, course_id), "course", "course_id")


@router.get(
    "/courses/{course_id}/roster",
    response_model=list[EnrolmentView],
    summary="A course's roster: enrolled, completed, waiting",
)
async def roster(course_id: str, principal: CurrentPrincipal, deps: Deps, _c: ConsistentRead) -> list[Row]:
    async with deps.db.session() as s:
        course = found(await training.course(s, course_id), "course", "course_id")
        require_owner_or_area_staff(principal, course["partner_id"], course["community_code"], "course_id")
        return await training.roster(s, course_id)


@router.get("/enrolments/{enrolment_id}", response_model=EnrolmentView, summary="One enrolment")
async def get_enrolment(enrolment_id: str, principal: CurrentPrincipal, deps: Deps, _c: ConsistentRead) -> Row:
    async with deps.db.session() as s:
        row = found(await training.enrolment(s, enrolment_id), "enrolment", "enrolment_id")
    require_party(
        principal,
        resident_id=row["resident_id"],
        partner_id=row["partner_id"],
        area_code=row["community_code"],
        what="enrolments",
        field="enrolment_id",
    )
    return row
