"""Job-seeker leads: opened by the service from a visit finding, closed by staff of the grid."""

from __future__ import annotations

from doorstep_shared.uow import CommandResult

from jobs.authz import STAFF
from jobs.commands.leads import CloseLead, OpenLead
from jobs.domain.leads import JobSeekerLead
from jobs.handlers.registry import Ctx, handlers


@handlers.register
async def close_lead(cmd: CloseLead, ctx: Ctx) -> CommandResult:
    lead = await ctx.uow.get(JobSeekerLead, cmd.lead_id, what="lead")
    ctx.user.require_role(*STAFF)
    ctx.user.require_area(lead.grid_code, field="lead_id")
    lead.close(cmd.outcome, cmd.note)
    return ctx.uow.result(lead)


@handlers.register
async def open_lead(cmd: OpenLead, ctx: Ctx) -> CommandResult:
    """Open a job-seeker lead for a visit finding, once per visit (a repeat finds it open)."""
    lead = JobSeekerLead.open(
        resident_id=cmd.resident_id,
        grid_code=cmd.grid_code,
        grid_worker_id=cmd.grid_worker_id,
        visit_id=cmd.visit_id,
        note=cmd.note,
    )
    existing = await ctx.uow.find(JobSeekerLead, lead.id)
    if existing is not None:
        return ctx.uow.result(existing)
    ctx.uow.add(lead)
    return ctx.uow.result(lead)
