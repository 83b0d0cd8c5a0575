"""Command handlers: load aggregates, check who may act, call the domain, return the result.

Every command of the service has its handler here, whichever way it arrives
(HTTP, Open311): who may act is checked with `authz`, the case's own rules by
the aggregate, and the time and the district's policy come from the context.
"""

from __future__ import annotations

from doorstep_shared.commands import Context, HandlerRegistry
from doorstep_shared.domain import Conflict, InvalidInput, as_utc, new_id
from doorstep_shared.uow import CommandResult, UnitOfWork

from grid_reports import authz, views
from grid_reports.commands import (
    AcceptCase,
    AssignCase,
    CloseCase,
    EndWithoutAgreement,
    GiveFeedback,
    HoldSession,
    MergeCase,
    OpenDispute,
    RecordAgreement,
    RecordVisit,
    RejectCase,
    ReportCase,
    ReportCaseOverOpen311,
    ResolveCase,
    SetPublicSummary,
    StartCase,
)
from grid_reports.deps import GridReportsDeps
from grid_reports.domain.dispute import Dispute
from grid_reports.domain.model import Case
from grid_reports.domain.visit import Visit

handlers = HandlerRegistry[GridReportsDeps]()


# cases ------------------------------------------------------------------------------------


async def _report(cmd: ReportCase, ctx: Context[GridReportsDeps], channel: str) -> CommandResult:
    reporter_id = authz.reporter_for(ctx.user, cmd.source, cmd.grid_code or cmd.community_code)
    case = Case.report(
        new_id(),
        category=cmd.category,
        source=cmd.source,
        reporter_id=reporter_id,
        community_code=cmd.community_code,
        grid_code=cmd.grid_code,
        building=cmd.building,
        latitude=cmd.latitude,
        longitude=cmd.longitude,
        address=cmd.address,
        description=cmd.description,
        photos=cmd.photos,
        priority=cmd.priority,
        channel=channel,
        now=ctx.now,
        policy=ctx.deps.policy,
    )
    ctx.uow.add(case)
    return ctx.uow.result(case, state=case.state, due_at=case.due_at.isoformat() if case.due_at else None)


@handlers.register
async def report_case(cmd: ReportCase, ctx: Context[GridReportsDeps]) -> CommandResult:
    return await _report(cmd, ctx, "api")


@handlers.register
async def report_case_over_open311(cmd: ReportCaseOverOpen311, ctx: Context[GridReportsDeps]) -> CommandResult:
    return await _report(cmd, ctx, "open311")


async def _staff_case(ctx: Context[GridReportsDeps], case_id: str) -> Case:
    authz.require_dispatcher(ctx.user)
    case = await ctx.uow.get(Case, case_id, what="case")
    ctx.user.require_area(case.area_code, field="case_id")
    return case


def _done(uow: UnitOfWork, case: Case) -> CommandResult:
    return uow.result(case, state=case.state)


@handlers.register
async def accept_case(cmd: AcceptCase, ctx: Context[GridReportsDeps]) -> CommandResult:
    case = await _staff_case(ctx, cmd.case_id)
    case.accept(by=ctx.user.subject, now=ctx.now, policy=ctx.deps.policy)
    return _done(ctx.uow, case)


@handlers.register
async def reject_case(cmd: RejectCase, ctx: Context[GridReportsDeps]) -> CommandResult:
    case = await _staff_case(ctx, cmd.case_id)
    case.reject(by=ctx.user.subject, reason=cmd.reason, now=ctx.now)
    return _done(ctx.uow, case)


@handlers.register
async def merge_case(cmd: MergeCase, ctx: Context[GridReportsDeps]) -> CommandResult:
    case = await _staff_case(ctx, cmd.case_id)
    primary = await ctx.uow.find(Case, cmd.into_case_id)
    if primary is None:
        raise InvalidInput(f"case {cmd.into_case_id} not found", field="into_case_id")
    case.merge_into(primary, by=ctx.user.subject, now=ctx.now)
    return _done(ctx.uow, case)


@handlers.register
async def assign_case(cmd: AssignCase, ctx: Context[GridReportsDeps]) -> CommandResult:
    case = await _staff_case(ctx, cmd.case_id)
    authz.require_assignment(ctx.user, cmd.assignee_id)
    case.assign(assignee_id=cmd.assignee_id, by=ctx.user.subject, now=ctx.now, policy=ctx.deps.policy)
    return _done(ctx.uow, case)


@handlers.register
async def start_case(cmd: StartCase, ctx: Context[GridReportsDeps]) -> CommandResult:
    case = await _staff_case(ctx, cmd.case_id)
    case.start(by=ctx.user.subject, now=ctx.now)
    return _done(ctx.uow, case)


@handlers.register
async def resolve_case(cmd: ResolveCase, ctx: Context[GridReportsDeps]) -> CommandResult:
    case = await _staff_case(ctx, cmd.case_id)
    case.resolve(by=ctx.user.subject, resolution=cmd.resolution, photos=cmd.photos, now=ctx.now, policy=ctx.deps.policy)
    return _done(ctx.uow, case)


@handlers.register
async def set_public_summary(cmd: SetPublicSummary, ctx: Context[GridReportsDeps]) -> CommandResult:
    case = await _staff_case(ctx, cmd.case_id)
    case.set_public_summary(text=cmd.text, by=ctx.user.subject, now=ctx.now)
    return _done(ctx.uow, case)


@handlers.register
async def give_feedback(cmd: GiveFeedback, ctx: Context[GridReportsDeps]) -> CommandResult:
    case = await ctx.uow.get(Case, cmd.case_id, what="case")
    case.give_feedback(
        reporter_id=authz.actor_id(ctx.user),
        satisfaction=cmd.satisfaction,
        comment=cmd.comment,
        now=ctx.now,
        policy=ctx.deps.policy,
    )
    return _done(ctx.uow, case)


@handlers.register
async def close_case(cmd: CloseCase, ctx: Context[GridReportsDeps]) -> CommandResult:
    case = await _staff_case(ctx, cmd.case_id)
    case.close(by=ctx.user.subject, now=ctx.now, policy=ctx.deps.policy)
    return _done(ctx.uow, case)


# visits -----------------------------------------------------------------------------------


@handlers.register
async def record_visit(cmd: RecordVisit, ctx: Context[GridReportsDeps]) -> CommandResult:
    """Record a visit; a safety hazard found at home also opens a case here at once."""
    actor, now, uow = ctx.user, ctx.now, ctx.uow
    authz.require_visitor(actor, cmd.grid_code)
    if cmd.resident_id and await views.resident_status(uow.session, cmd.resident_id) == "moved_out":
        raise Conflict(f"resident {cmd.resident_id} has moved out", field="resident_id")
    visit = Visit.record(
        new_id(),
        resident_id=cmd.resident_id,
        household_id=cmd.household_id,
        community_code=cmd.community_code,
        grid_code=cmd.grid_code,
        grid_worker_id=actor.subject,
        kind=cmd.kind,
        visited_at=as_utc(cmd.visited_at) if cmd.visited_at else now,
        findings=[(f.finding, f.note) for f in cmd.findings],
        note=cmd.note,
        now=now,
    )
    uow.add(visit)
    case_ids = []
    for finding in cmd.findings:
        if finding.finding == "home_safety_hazard":
            case = Case.report(
                new_id(),
                category="safety_hazard",
                source="grid_worker",
                reporter_id=actor.subject,
                community_code=cmd.community_code,
                grid_code=cmd.grid_code,
                description=finding.note or "safety hazard found at home during a visit",
                priority="high",
                channel="visit",
                visit_id=visit.id,
                now=now,
                policy=ctx.deps.policy,
            )
            uow.add(case)
            case_ids.append(case.id)
    return uow.result(visit, case_ids=case_ids)


# disputes ---------------------------------------------------------------------------------


@handlers.register
async def open_dispute(cmd: OpenDispute, ctx: Context[GridReportsDeps]) -> CommandResult:
    actor = ctx.user
    authz.require_staff(actor)
    actor.require_area(cmd.grid_code or cmd.community_code, field="community_code")
    if cmd.case_id is not None:
        case = await ctx.uow.find(Case, cmd.case_id)
        if case is None:
            raise InvalidInput(f"case {cmd.case_id} not found", field="case_id")
        if case.category != "neighbour_dispute" or case.community_code != cmd.community_code:
            raise InvalidInput("link a neighbour-dispute case of the same community", field="case_id")
    dispute = Dispute.open(
        new_id(),
        case_id=cmd.case_id,
        community_code=cmd.community_code,
        grid_code=cmd.grid_code,
        parties=[p.model_dump() for p in cmd.parties],
        summary=cmd.summary,
        by=actor.subject,
        now=ctx.now,
    )
    ctx.uow.add(dispute)
    return ctx.uow.result(dispute, state=dispute.state)


async def _staff_dispute(ctx: Context[GridReportsDeps], dispute_id: str) -> Dispute:
    authz.require_staff(ctx.user)
    dispute = await ctx.uow.get(Dispute, dispute_id, what="dispute")
    ctx.user.require_area(dispute.area_code, field="dispute_id")
    return dispute


@handlers.register
async def hold_session(cmd: HoldSession, ctx: Context[GridReportsDeps]) -> CommandResult:
    dispute = await _staff_dispute(ctx, cmd.dispute_id)
    dispute.hold_session(
        mediator_id=ctx.user.subject,
        held_at=as_utc(cmd.held_at) if cmd.held_at else ctx.now,
        attendees=cmd.attendees,
        notes=cmd.notes,
        now=ctx.now,
    )
    return ctx.uow.result(dispute, state=dispute.state, session_no=dispute.sessions)


@handlers.register
async def record_agreement(cmd: RecordAgreement, ctx: Context[GridReportsDeps]) -> CommandResult:
    dispute = await _staff_dispute(ctx, cmd.dispute_id)
    dispute.agree(agreement=cmd.agreement, by=ctx.user.subject, now=ctx.now)
    return ctx.uow.result(dispute, state=dispute.state)


@handlers.register
async def end_without_agreement(cmd: EndWithoutAgreement, ctx: Context[GridReportsDeps]) -> CommandResult:
    dispute = await _staff_dispute(ctx, cmd.dispute_id)
    dispute.fail(reason=cmd.reason, by=ctx.user.subject, now=ctx.now)
    return ctx.uow.result(dispute, state=dispute.state)
