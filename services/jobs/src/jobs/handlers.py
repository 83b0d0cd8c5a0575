"""Command handlers: load aggregates, check who is asking, let the aggregates decide.

Each runs inside one unit of work (one transaction); handlers that touch two
aggregates (a hire fills an opening, an enrolment takes a seat) change both or
neither.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from doorstep_shared.auth import Principal, Role
from doorstep_shared.domain import Conflict, Forbidden, InvalidInput, NotFound, new_id
from doorstep_shared.uow import CommandResult, UnitOfWork

from jobs import commands as c
from jobs import views
from jobs.authz import (
    ORGANISERS,
    require_for_resident,
    require_owner_or_staff,
    require_partner_kind,
)
from jobs.domain.applications import Application
from jobs.domain.fairs import DEFAULT_RULES, Fair, occurrences
from jobs.domain.leads import JobSeekerLead
from jobs.domain.piecework import PieceworkOrder
from jobs.domain.postings import JobPosting, PostingDraft
from jobs.domain.training import Course, Enrolment

APPLICATION_NAMESPACE = uuid.UUID("b8f0d1c4-2f7e-4d8e-9a3b-0c6e5d4f3a21")


async def _active_resident(uow: UnitOfWork, resident_id: str) -> dict[str, Any]:
    row = await views.resident(uow.session, resident_id)
    if row is None:
        raise NotFound(f"resident {resident_id} is not known to jobs", field="resident_id")
    if row["status"] != "active":
        raise Conflict(f"resident {resident_id} has {row['status'].replace('_', ' ')}", field="resident_id")
    return row


# postings ----------------------------------------------------------------------------


async def post_job(uow: UnitOfWork, cmd: c.PostJob, actor: Principal, now: datetime) -> CommandResult:
    if actor.role == Role.PARTNER:
        require_partner_kind(actor, "employer")
        partner_id, organisation = actor.partner_id, cmd.hiring_organization or actor.name
    else:
        actor.require_role(*ORGANISERS)
        actor.require_area(cmd.community_code, field="community_code")
        if not cmd.hiring_organization:
            raise InvalidInput("name the hiring organisation", field="hiring_organization")
        partner_id, organisation = None, cmd.hiring_organization
    draft = PostingDraft(
        title=cmd.title,
        description=cmd.description,
        employment_type=cmd.employment_type,
        hiring_organization=organisation,
        community_code=cmd.community_code,
        grid_code=cmd.grid_code,
        job_location=cmd.job_location,
        pay_fen=cmd.base_salary.amount_fen,
        pay_unit=cmd.base_salary.unit,
        work_hours=cmd.work_hours,
        schedule=[w.model_dump() for w in cmd.schedule],
        skills=cmd.skills,
        total_job_openings=cmd.total_job_openings,
        valid_through=cmd.valid_through,
    )
    job = JobPosting.draft(new_id(), draft, partner_id=partner_id, created_by=actor.subject, now=now)
    if cmd.publish:
        job.publish(now)
    uow.add(job)
    return uow.result(job, status=job.status)


async def _own_job(uow: UnitOfWork, job_id: str, actor: Principal) -> JobPosting:
    job = await uow.get(JobPosting, job_id, what="job")
    require_owner_or_staff(actor, job.partner_id, job.community_code, "job_id")
    return job


async def publish_job(uow: UnitOfWork, job_id: str, actor: Principal, now: datetime) -> CommandResult:
    job = await _own_job(uow, job_id, actor)
    job.publish(now)
    return uow.result(job, status=job.status)


async def close_job(uow: UnitOfWork, job_id: str, cmd: c.Reason, actor: Principal) -> CommandResult:
    job = await _own_job(uow, job_id, actor)
    job.close(cmd.reason or "closed by the employer")
    return uow.result(job, status=job.status)


async def expire_job(uow: UnitOfWork, job_id: str, now: datetime) -> CommandResult:
    """Run by the expiry sweep, not by a user."""
    job = await uow.get(JobPosting, job_id, what="job")
    job.expire(now)
    return uow.result(job, status=job.status)


# applications ------------------------------------------------------------------------------


async def apply(uow: UnitOfWork, job_id: str, cmd: c.Apply, actor: Principal, now: datetime) -> CommandResult:
    """A resident applies, or their grid worker applies for them (which needs the
    resident's consent to employment matching). One application per resident and job."""
    job = await uow.get(JobPosting, job_id, what="job")
    job.require_open(now)
    resident = await _active_resident(uow, cmd.resident_id)
    on_behalf = require_for_resident(actor, resident)
    if on_behalf and not resident["consent_matching"]:
        raise Forbidden("the resident has not consented to employment matching", field="resident_id")
    if cmd.fair_id is not None:
        fair = await uow.get(Fair, cmd.fair_id, what="fair")
        if job.partner_id not in fair.employers:
            raise InvalidInput("the job's employer does not take part in that fair", field="fair_id")
    application_id = str(uuid.uuid5(APPLICATION_NAMESPACE, f"{job_id}:{cmd.resident_id}"))
    if await uow.find(Application, application_id) is not None:
        raise Conflict("the resident has already applied to this job", field="resident_id")
    app = Application.submit(
        application_id,
        job_id=job_id,
        resident_id=cmd.resident_id,
        partner_id=job.partner_id,
        community_code=resident["community_code"],
        job_community_code=job.community_code,
        fair_id=cmd.fair_id,
        applied_by=actor.subject,
        on_behalf=on_behalf,
        note=cmd.note,
    )
    uow.add(app)
    return uow.result(app, status=app.status)


async def _application_for_employer(uow: UnitOfWork, application_id: str, actor: Principal) -> Application:
    app = await uow.get(Application, application_id, what="application")
    require_owner_or_staff(actor, app.partner_id, app.job_community_code, "application_id")
    return app


async def advance(uow: UnitOfWork, application_id: str, to: str, cmd: c.Step, actor: Principal) -> CommandResult:
    app = await _application_for_employer(uow, application_id, actor)
    app.advance(to, cmd.note)
    return uow.result(app, status=app.status)


async def hire(uow: UnitOfWork, application_id: str, actor: Principal, now: datetime) -> CommandResult:
    """Hire the resident and fill one opening of the job, in one transaction."""
    app = await _application_for_employer(uow, application_id, actor)
    job = await uow.get(JobPosting, app.job_id, what="job")
    app.hire()
    job.fill_opening(app.id, app.resident_id, now)
    return uow.result(app, status=app.status, job_status=job.status)


async def reject(uow: UnitOfWork, application_id: str, cmd: c.Reason, actor: Principal) -> CommandResult:
    app = await _application_for_employer(uow, application_id, actor)
    app.reject(cmd.reason)
    return uow.result(app, status=app.status)


async def withdraw(uow: UnitOfWork, application_id: str, cmd: c.Reason, actor: Principal) -> CommandResult:
    app = await uow.get(Application, application_id, what="application")
    resident = await views.resident(uow.session, app.resident_id)
    if actor.role == Role.RESIDENT or resident is not None:
        require_for_resident(actor, resident or {"resident_id": app.resident_id, "grid_code": ""}, "application_id")
    else:
        actor.require_role(*ORGANISERS)
        actor.require_area(app.community_code, field="application_id")
    app.withdraw(cmd.reason or "withdrawn by the resident")
    return uow.result(app, status=app.status)


# fairs ------------------------------------------------------------------------------------------


async def schedule_fair(uow: UnitOfWork, cmd: c.ScheduleFair, actor: Principal) -> CommandResult:
    actor.require_role(*ORGANISERS)
    actor.require_area(cmd.community_code, field="community_code")
    fair = Fair.schedule(
        new_id(),
        kind=cmd.kind,
        title=cmd.title,
        community_code=cmd.community_code,
        place=cmd.place,
        on=cmd.date,
        start=cmd.start,
        end=cmd.end,
    )
    uow.add(fair)
    return uow.result(fair)


async def schedule_fair_series(uow: UnitOfWork, cmd: c.ScheduleFairSeries, actor: Principal) -> CommandResult:
    """One fair per occurrence of the rule, all sharing a series id."""
    actor.require_role(*ORGANISERS)
    actor.require_area(cmd.community_code, field="community_code")
    if cmd.until is None and cmd.count is None:
        raise InvalidInput("bound the series with until or count", field="until")
    rule = cmd.rule or DEFAULT_RULES[cmd.kind]
    series_id = new_id()
    fairs = [
        Fair.schedule(
            new_id(),
            kind=cmd.kind,
            title=cmd.title,
            community_code=cmd.community_code,
            place=cmd.place,
            on=day,
            start=cmd.start,
            end=cmd.end,
            series_id=series_id,
            rule=rule,
        )
        for day in occurrences(rule, cmd.starts_on, cmd.until, cmd.count)
    ]
    for fair in fairs:
        uow.add(fair)
    result = uow.result(
        fairs[0],
        series_id=series_id,
        fair_ids=[f.id for f in fairs],
        dates=[f.date.isoformat() for f in fairs if f.date],
    )
    result.id = series_id
    return result


async def join_fair(uow: UnitOfWork, fair_id: str, cmd: c.JoinFair, actor: Principal, now: datetime) -> CommandResult:
    fair = await uow.get(Fair, fair_id, what="fair")
    if actor.role == Role.PARTNER:
        require_partner_kind(actor, "employer", "piecework_processor", "training_school")
        partner_id, name = actor.partner_id, actor.name
        if cmd.partner_id not in (None, partner_id):
            raise Forbidden("a partner joins only for itself", field="partner_id")
    else:
        actor.require_role(*ORGANISERS)
        actor.require_area(fair.community_code, field="fair_id")
        if cmd.partner_id is None:
            raise InvalidInput("name the employer joining", field="partner_id")
        partner = await views.partner(uow.session, cmd.partner_id)
        if partner is None:
            raise NotFound(f"partner {cmd.partner_id} is not known", field="partner_id")
        partner_id, name = cmd.partner_id, partner["name"]
    for job_id in cmd.job_ids:
        job = await uow.find(JobPosting, job_id)
        if job is None or job.partner_id != partner_id:
            raise InvalidInput(f"job {job_id} is not one of this employer's", field="job_ids")
    assert partner_id is not None
    fair.join(partner_id, name, cmd.job_ids, now.date())
    return uow.result(fair)


async def sign_up(uow: UnitOfWork, fair_id: str, cmd: c.SignUp, actor: Principal, now: datetime) -> CommandResult:
    fair = await uow.get(Fair, fair_id, what="fair")
    resident = await _active_resident(uow, cmd.resident_id)
    require_for_resident(actor, resident)
    fair.sign_up(cmd.resident_id, actor.subject, now.date())
    return uow.result(fair)


async def cancel_fair(uow: UnitOfWork, fair_id: str, cmd: c.Reason, actor: Principal, now: datetime) -> CommandResult:
    fair = await uow.get(Fair, fair_id, what="fair")
    actor.require_role(*ORGANISERS)
    actor.require_area(fair.community_code, field="fair_id")
    fair.cancel(cmd.reason, now.date())
    return uow.result(fair)


# piecework ----------------------------------------------------------------------------------------


async def place_order(uow: UnitOfWork, cmd: c.PlaceOrder, actor: Principal, now: datetime) -> CommandResult:
    require_partner_kind(actor, "piecework_processor")
    assert actor.partner_id is not None
    order = PieceworkOrder.place(
        new_id(),
        partner_id=actor.partner_id,
        processor_name=actor.name,
        community_code=cmd.community_code,
        item=cmd.item,
        quantity=cmd.quantity,
        rate_fen=cmd.rate_fen,
        deadline=cmd.deadline,
        now=now,
    )
    uow.add(order)
    return uow.result(order)


async def _own_order(uow: UnitOfWork, order_id: str, actor: Principal) -> PieceworkOrder:
    order = await uow.get(PieceworkOrder, order_id, what="order")
    require_owner_or_staff(actor, order.partner_id, order.community_code, "order_id")
    return order


async def issue_batch(
    uow: UnitOfWork, order_id: str, cmd: c.IssueBatch, actor: Principal, now: datetime
) -> CommandResult:
    order = await _own_order(uow, order_id, actor)
    await _active_resident(uow, cmd.resident_id)
    batch_id = new_id()
    order.issue_batch(batch_id, cmd.resident_id, cmd.quantity, now)
    return uow.result(order, batch_id=batch_id)


async def deliver(uow: UnitOfWork, order_id: str, cmd: c.Deliver, actor: Principal, now: datetime) -> CommandResult:
    order = await _own_order(uow, order_id, actor)
    delivery_id = new_id()
    amount = order.deliver(delivery_id, cmd.batch_id, cmd.accepted, cmd.rejected, now)
    return uow.result(order, delivery_id=delivery_id, amount_fen=amount)


async def settle(uow: UnitOfWork, order_id: str, cmd: c.Settle, actor: Principal) -> CommandResult:
    order = await _own_order(uow, order_id, actor)
    amount, deliveries = order.settle(cmd.resident_id)
    return uow.result(order, amount_fen=amount, delivery_ids=deliveries)


async def close_order(uow: UnitOfWork, order_id: str, cmd: c.Reason, actor: Principal) -> CommandResult:
    order = await _own_order(uow, order_id, actor)
    order.close(cmd.reason or "order complete")
    return uow.result(order)


# training -----------------------------------------------------------------------------------------


async def publish_course(uow: UnitOfWork, cmd: c.PublishCourse, actor: Principal) -> CommandResult:
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
    uow.add(course)
    return uow.result(course)


async def cancel_course(uow: UnitOfWork, course_id: str, cmd: c.Reason, actor: Principal) -> CommandResult:
    """Cancelling a course cancels every enrolment still running."""
    course = await uow.get(Course, course_id, what="course")
    require_owner_or_staff(actor, course.partner_id, course.community_code, "course_id")
    course.cancel(cmd.reason or "cancelled by the school")
    for enrolment_id in [*course.seats, *(e for e, _ in course.waitlist)]:
        enrolment = await uow.get(Enrolment, enrolment_id, what="enrolment")
        enrolment.cancel("course cancelled")
    return uow.result(course)


async def enrol(uow: UnitOfWork, course_id: str, cmd: c.Enrol, actor: Principal) -> CommandResult:
    course = await uow.get(Course, course_id, what="course")
    resident = await _active_resident(uow, cmd.resident_id)
    require_for_resident(actor, resident)
    enrolment_id = new_id()
    status = course.take_seat(enrolment_id, cmd.resident_id, waitlist=cmd.waitlist)
    enrolment = Enrolment.request(
        enrolment_id,
        course=course,
        resident_id=cmd.resident_id,
        status=status,
        requested_by=actor.subject,
    )
    uow.add(enrolment)
    return uow.result(enrolment, status=status)


async def _enrolment_for_school(uow: UnitOfWork, enrolment_id: str, actor: Principal) -> tuple[Enrolment, Course]:
    enrolment = await uow.get(Enrolment, enrolment_id, what="enrolment")
    course = await uow.get(Course, enrolment.course_id, what="course")
    require_owner_or_staff(actor, course.partner_id, course.community_code, "enrolment_id")
    return enrolment, course


async def record_attendance(uow: UnitOfWork, enrolment_id: str, cmd: c.Attendance, actor: Principal) -> CommandResult:
    enrolment, course = await _enrolment_for_school(uow, enrolment_id, actor)
    enrolment.record_attendance(cmd.session_no, cmd.present, course.sessions)
    return uow.result(enrolment, status=enrolment.status)


async def complete(uow: UnitOfWork, enrolment_id: str, cmd: c.Complete, actor: Principal) -> CommandResult:
    enrolment, course = await _enrolment_for_school(uow, enrolment_id, actor)
    enrolment.complete(cmd.certificate_no, course)
    return uow.result(enrolment, status=enrolment.status)


async def _release(uow: UnitOfWork, enrolment: Enrolment, reason: str) -> None:
    """Cancel an enrolment and hand its seat to the head of the waiting list."""
    course = await uow.get(Course, enrolment.course_id, what="course")
    enrolment.cancel(reason)
    promoted = course.release(enrolment.id)
    if promoted is not None:
        nxt = await uow.get(Enrolment, promoted, what="enrolment")
        nxt.promote()


async def cancel_enrolment(uow: UnitOfWork, enrolment_id: str, cmd: c.Reason, actor: Principal) -> CommandResult:
    enrolment = await uow.get(Enrolment, enrolment_id, what="enrolment")
    resident = await views.resident(uow.session, enrolment.resident_id)
    if actor.role == Role.PARTNER:
        require_owner_or_staff(actor, enrolment.partner_id, enrolment.community_code, "enrolment_id")
    else:
        require_for_resident(
            actor,
            resident or {"resident_id": enrolment.resident_id, "grid_code": ""},
            "enrolment_id",
        )
    await _release(uow, enrolment, cmd.reason or "cancelled")
    return uow.result(enrolment, status=enrolment.status)


# leads ----------------------------------------------------------------------------------------------


async def close_lead(uow: UnitOfWork, lead_id: str, cmd: c.CloseLead, actor: Principal) -> CommandResult:
    lead = await uow.get(JobSeekerLead, lead_id, what="lead")
    actor.require_role(Role.GRID_WORKER, *ORGANISERS)
    actor.require_area(lead.grid_code, field="lead_id")
    lead.close(cmd.outcome, cmd.note)
    return uow.result(lead)


# reactions to other services ---------------------------------------------------------------------


async def resident_left(uow: UnitOfWork, resident_id: str, reason: str) -> int:
    """Withdraw the resident's open applications and cancel their enrolments.

    The resident's streams are found in the event log itself (not a read model
    that may lag); a second delivery finds nothing left open and changes nothing.
    """
    changed = 0
    for app_id in await views.streams_of_resident(uow.session, "ApplicationSubmitted", resident_id):
        app = await uow.get(Application, app_id, what="application")
        if app.is_open:
            app.withdraw(reason)
            changed += 1
    for enrolment_id in await views.streams_of_resident(uow.session, "EnrolmentRequested", resident_id):
        enrolment = await uow.get(Enrolment, enrolment_id, what="enrolment")
        if enrolment.is_active:
            await _release(uow, enrolment, reason)
            changed += 1
    return changed


async def open_lead(
    uow: UnitOfWork,
    *,
    resident_id: str,
    grid_code: str,
    grid_worker_id: str,
    visit_id: str,
    note: str,
) -> bool:
    """Open a job-seeker lead for a visit finding, once per visit."""
    lead = JobSeekerLead.open(
        resident_id=resident_id,
        grid_code=grid_code,
        grid_worker_id=grid_worker_id,
        visit_id=visit_id,
        note=note,
    )
    if await uow.find(JobSeekerLead, lead.id) is not None:
        return False
    uow.add(lead)
    return True
