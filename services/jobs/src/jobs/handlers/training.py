"""Partner training: a school publishes a course; residents enrol (or wait for a seat);
the school records attendance and completion."""

from __future__ import annotations

from doorstep_shared.auth import Principal
from doorstep_shared.domain import new_id
from doorstep_shared.uow import CommandResult, UnitOfWork

from jobs.authz import (
    require_for_resident,
    require_owner_or_staff,
    require_partner_kind,
    require_school_or_for_resident,
)
from jobs.commands.training import (
    CancelCourse,
    CancelEnrolment,
    CompleteEnrolment,
    Enrol,
    PublishCourse,
    RecordAttendance,
)
from jobs.domain.training import Course, Enrolment
from jobs.handlers.registry import Ctx, handlers
from jobs.handlers.residents import active_resident
from jobs.views.residents import resident


@handlers.register
async def publish_course(cmd: PublishCourse, ctx: Ctx) -> CommandResult:
    actor = ctx.user
    require_partner_kind(actor, "training_school")
    assert actor.partner_id is not None
    course = Course.publish(
        new_id(),
        partner_id=actor.partner_id,
        school_name=actor.name,
        community_code=cmd.community_code,
        title=cmd.title,
        skill=cmd.skill,
        sessions=[s.model_dump() for s in cmd.sessions],
        capacity=cmd.capacity,
        place=cmd.place,
        subsidy_fen=cmd.subsidy_fen,
        required_sessions=cmd.required_sessions,
    )
    ctx.uow.add(course)
    return ctx.uow.result(course)


@handlers.register
async def cancel_course(cmd: CancelCourse, ctx: Ctx) -> CommandResult:
    """Cancelling a course cancels every enrolment still running."""
    course = await ctx.uow.get(Course, cmd.course_id, what="course")
    require_owner_or_staff(ctx.user, course.partner_id, course.community_code, "course_id")
    course.cancel(cmd.reason or "cancelled by the school")
    for enrolment_id in [*course.seats, *(e for e, _ in course.waitlist)]:
        enrolment = await ctx.uow.get(Enrolment, enrolment_id, what="enrolment")
        enrolment.cancel("course cancelled")
    return ctx.uow.result(course)


@handlers.register
async def enrol(cmd: Enrol, ctx: Ctx) -> CommandResult:
    course = await ctx.uow.get(Course, cmd.course_id, what="course")
    learner = await active_resident(ctx.uow, cmd.resident_id)
    require_for_resident(ctx.user, learner)
    enrolment_id = new_id()
    status = course.take_seat(enrolment_id, cmd.resident_id, waitlist=cmd.waitlist)
    enrolment = Enrolment.request(
        enrolment_id,
        course=course,
        resident_id=cmd.resident_id,
        status=status,
        requested_by=ctx.user.subject,
    )
    ctx.uow.add(enrolment)
    return ctx.uow.result(enrolment, status=status)


async def _enrolment_for_school(uow: UnitOfWork, enrolment_id: str, actor: Principal) -> tuple[Enrolment, Course]:
    enrolment = await uow.get(Enrolment, enrolment_id, what="enrolment")
    course = await uow.get(Course, enrolment.course_id, what="course")
    require_owner_or_staff(actor, course.partner_id, course.community_code, "enrolment_id")
    return enrolment, course


@handlers.register
async def record_attendance(cmd: RecordAttendance, ctx: Ctx) -> CommandResult:
    enrolment, course = await _enrolment_for_school(ctx.uow, cmd.enrolment_id, ctx.user)
    enrolment.record_attendance(cmd.session_no, cmd.present, course.sessions)
    return ctx.uow.result(enrolment, status=enrolment.status)


@handlers.register
async def complete(cmd: CompleteEnrolment, ctx: Ctx) -> CommandResult:
    enrolment, course = await _enrolment_for_school(ctx.uow, cmd.enrolment_id, ctx.user)
    enrolment.complete(cmd.certificate_no, course)
    return ctx.uow.result(enrolment, status=enrolment.status)


async def release(uow: UnitOfWork, enrolment: Enrolment, reason: str) -> None:
    """Cancel an enrolment and hand its seat to the head of the waiting list."""
    course = await uow.get(Course, enrolment.course_id, what="course")
    enrolment.cancel(reason)
    promoted = course.release(enrolment.id)
    if promoted is not None:
        nxt = await uow.get(Enrolment, promoted, what="enrolment")
        nxt.promote()


@handlers.register
async def cancel_enrolment(cmd: CancelEnrolment, ctx: Ctx) -> CommandResult:
    enrolment = await ctx.uow.get(Enrolment, cmd.enrolment_id, what="enrolment")
    known = await resident(ctx.uow.session, enrolment.resident_id)
    require_school_or_for_resident(
        ctx.user,
        known,
        resident_id=enrolment.resident_id,
        partner_id=enrolment.partner_id,
        area_code=enrolment.community_code,
        field="enrolment_id",
    )
    await release(ctx.uow, enrolment, cmd.reason or "cancelled")
    return ctx.uow.result(enrolment, status=enrolment.status)
