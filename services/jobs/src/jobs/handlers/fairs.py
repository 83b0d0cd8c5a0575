"""Job fairs: organisers schedule them (one-off or from a recurrence rule); employers
take part; residents sign up."""

from __future__ import annotations

from doorstep_shared.auth import Role
from doorstep_shared.domain import Forbidden, InvalidInput, NotFound, new_id
from doorstep_shared.uow import CommandResult

from jobs.authz import require_for_resident, require_organiser_in, require_partner_kind
from jobs.commands.fairs import CancelFair, JoinFair, ScheduleFair, ScheduleFairSeries, SignUpForFair
from jobs.domain.fairs import DEFAULT_RULES, Fair, occurrences
from jobs.domain.postings import JobPosting
from jobs.handlers.registry import Ctx, handlers
from jobs.handlers.residents import active_resident
from jobs.views.residents import partner


@handlers.register
async def schedule_fair(cmd: ScheduleFair, ctx: Ctx) -> CommandResult:
    require_organiser_in(ctx.user, cmd.community_code, "community_code")
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
    ctx.uow.add(fair)
    return ctx.uow.result(fair)


@handlers.register
async def schedule_fair_series(cmd: ScheduleFairSeries, ctx: Ctx) -> CommandResult:
    """One fair per occurrence of the rule, all sharing a series id."""
    require_organiser_in(ctx.user, cmd.community_code, "community_code")
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
        ctx.uow.add(fair)
    result = ctx.uow.result(
        fairs[0],
        series_id=series_id,
        fair_ids=[f.id for f in fairs],
        dates=[f.date.isoformat() for f in fairs if f.date],
    )
    result.id = series_id
    return result


@handlers.register
async def join_fair(cmd: JoinFair, ctx: Ctx) -> CommandResult:
    uow, actor = ctx.uow, ctx.user
    fair = await uow.get(Fair, cmd.fair_id, what="fair")
    if actor.role == Role.PARTNER:
        require_partner_kind(actor, "employer", "piecework_processor", "training_school")
        partner_id, name = actor.partner_id, actor.name
        if cmd.partner_id not in (None, partner_id):
            raise Forbidden("a partner joins only for itself", field="partner_id")
    else:
        require_organiser_in(actor, fair.community_code, "fair_id")
        if cmd.partner_id is None:
            raise InvalidInput("name the employer joining", field="partner_id")
        known = await partner(uow.session, cmd.partner_id)
        if known is None:
            raise NotFound(f"partner {cmd.partner_id} is not known", field="partner_id")
        partner_id, name = cmd.partner_id, known["name"]
    for job_id in cmd.job_ids:
        job = await uow.find(JobPosting, job_id)
        if job is None or job.partner_id != partner_id:
            raise InvalidInput(f"job {job_id} is not one of this employer's", field="job_ids")
    assert partner_id is not None
    fair.join(partner_id, name, cmd.job_ids, ctx.now.date())
    return uow.result(fair)


@handlers.register
async def sign_up(cmd: SignUpForFair, ctx: Ctx) -> CommandResult:
    fair = await ctx.uow.get(Fair, cmd.fair_id, what="fair")
    resident = await active_resident(ctx.uow, cmd.resident_id)
    require_for_resident(ctx.user, resident)
    fair.sign_up(cmd.resident_id, ctx.user.subject, ctx.now.date())
    return ctx.uow.result(fair)


@handlers.register
async def cancel_fair(cmd: CancelFair, ctx: Ctx) -> CommandResult:
    fair = await ctx.uow.get(Fair, cmd.fair_id, what="fair")
    require_organiser_in(ctx.user, fair.community_code, "fair_id")
    fair.cancel(cmd.reason, ctx.now.date())
    return ctx.uow.result(fair)
