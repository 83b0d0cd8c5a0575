"""Applications: a resident applies (or staff for her); the employer moves it along and hires."""

from __future__ import annotations

import uuid

from doorstep_shared.auth import Principal
from doorstep_shared.domain import Conflict, InvalidInput
from doorstep_shared.uow import CommandResult, UnitOfWork

from jobs.authz import require_for_leaver, require_matching_consent, require_owner_or_staff
from jobs.commands.applications import (
    ApplicationStep,
    ApplyForJob,
    HireApplicant,
    MakeOffer,
    RecordInterview,
    RejectApplication,
    ShortlistApplication,
    WithdrawApplication,
)
from jobs.domain.applications import Application
from jobs.domain.fairs import Fair
from jobs.domain.postings import JobPosting
from jobs.handlers.registry import Ctx, handlers
from jobs.handlers.residents import active_resident
from jobs.views.residents import resident

APPLICATION_NAMESPACE = uuid.UUID("b8f0d1c4-2f7e-4d8e-9a3b-0c6e5d4f3a21")


@handlers.register
async def apply(cmd: ApplyForJob, ctx: Ctx) -> CommandResult:
    """A resident applies, or their grid worker applies for them (which needs the
    resident's consent to employment matching). One application per resident and job."""
    uow, actor = ctx.uow, ctx.user
    job = await uow.get(JobPosting, cmd.job_id, what="job")
    job.require_open(ctx.now)
    applicant = await active_resident(uow, cmd.resident_id)
    on_behalf = require_matching_consent(actor, applicant)
    if cmd.fair_id is not None:
        fair = await uow.get(Fair, cmd.fair_id, what="fair")
        if job.partner_id not in fair.employers:
            raise InvalidInput("the job's employer does not take part in that fair", field="fair_id")
    application_id = str(uuid.uuid5(APPLICATION_NAMESPACE, f"{cmd.job_id}:{cmd.resident_id}"))
    if await uow.find(Application, application_id) is not None:
        raise Conflict("the resident has already applied to this job", field="resident_id")
    app = Application.submit(
        application_id,
        job_id=cmd.job_id,
        resident_id=cmd.resident_id,
        partner_id=job.partner_id,
        community_code=applicant["community_code"],
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


async def _advance(cmd: ApplicationStep, ctx: Ctx) -> CommandResult:
    app = await _application_for_employer(ctx.uow, cmd.application_id, ctx.user)
    app.advance(cmd.to, cmd.note)
    return ctx.uow.result(app, status=app.status)


@handlers.register
async def shortlist(cmd: ShortlistApplication, ctx: Ctx) -> CommandResult:
    return await _advance(cmd, ctx)


@handlers.register
async def record_interview(cmd: RecordInterview, ctx: Ctx) -> CommandResult:
    return await _advance(cmd, ctx)


@handlers.register
async def make_offer(cmd: MakeOffer, ctx: Ctx) -> CommandResult:
    return await _advance(cmd, ctx)


@handlers.register
async def hire(cmd: HireApplicant, ctx: Ctx) -> CommandResult:
    """Hire the resident and fill one opening of the job, in one transaction."""
    app = await _application_for_employer(ctx.uow, cmd.application_id, ctx.user)
    job = await ctx.uow.get(JobPosting, app.job_id, what="job")
    app.hire()
    job.fill_opening(app.id, app.resident_id, ctx.now)
    return ctx.uow.result(app, status=app.status, job_status=job.status)


@handlers.register
async def reject(cmd: RejectApplication, ctx: Ctx) -> CommandResult:
    app = await _application_for_employer(ctx.uow, cmd.application_id, ctx.user)
    app.reject(cmd.reason)
    return ctx.uow.result(app, status=app.status)


@handlers.register
async def withdraw(cmd: WithdrawApplication, ctx: Ctx) -> CommandResult:
    app = await ctx.uow.get(Application, cmd.application_id, what="application")
    known = await resident(ctx.uow.session, app.resident_id)
    require_for_leaver(
        ctx.user, known, resident_id=app.resident_id, area_code=app.community_code, field="application_id"
    )
    app.withdraw(cmd.reason or "withdrawn by the resident")
    return ctx.uow.result(app, status=app.status)
