"""Posting, publishing, closing and expiring jobs."""

from __future__ import annotations

from doorstep_shared.auth import Principal, Role
from doorstep_shared.domain import InvalidInput, new_id
from doorstep_shared.uow import CommandResult, UnitOfWork

from jobs.authz import require_organiser_in, require_owner_or_staff, require_partner_kind
from jobs.commands.postings import CloseJob, ExpireJob, PostJob, PublishJob
from jobs.domain.postings import JobPosting, PostingDraft
from jobs.handlers.registry import Ctx, handlers


@handlers.register
async def post_job(cmd: PostJob, ctx: Ctx) -> CommandResult:
    actor = ctx.user
    if actor.role == Role.PARTNER:
        require_partner_kind(actor, "employer")
        partner_id, organisation = actor.partner_id, cmd.hiring_organization or actor.name
    else:
        require_organiser_in(actor, cmd.community_code, "community_code")
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
    job = JobPosting.draft(new_id(), draft, partner_id=partner_id, created_by=actor.subject, now=ctx.now)
    if cmd.publish:
        job.publish(ctx.now)
    ctx.uow.add(job)
    return ctx.uow.result(job, status=job.status)


async def _own_job(uow: UnitOfWork, job_id: str, actor: Principal) -> JobPosting:
    job = await uow.get(JobPosting, job_id, what="job")
    require_owner_or_staff(actor, job.partner_id, job.community_code, "job_id")
    return job


@handlers.register
async def publish_job(cmd: PublishJob, ctx: Ctx) -> CommandResult:
    job = await _own_job(ctx.uow, cmd.job_id, ctx.user)
    job.publish(ctx.now)
    return ctx.uow.result(job, status=job.status)


@handlers.register
async def close_job(cmd: CloseJob, ctx: Ctx) -> CommandResult:
    job = await _own_job(ctx.uow, cmd.job_id, ctx.user)
    job.close(cmd.reason or "closed by the employer")
    return ctx.uow.result(job, status=job.status)


@handlers.register
async def expire_job(cmd: ExpireJob, ctx: Ctx) -> CommandResult:
    """Given by the expiry sweep, not by a user."""
    job = await ctx.uow.get(JobPosting, cmd.job_id, what="job")
    job.expire(ctx.now)
    return ctx.uow.result(job, status=job.status)
