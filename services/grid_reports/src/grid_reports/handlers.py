"""Command handlers: load aggregates, check who may act, call the domain, return the result.

Roles and area scopes are checked here (they belong to the caller, not to the
case); the case's own rules (states, reporter-only feedback, assignee-only
handling) are checked by the aggregate.
"""

from __future__ import annotations

from datetime import datetime

from doorstep_shared.auth import ADMIN_ROLES, Principal, Role
from doorstep_shared.domain import Conflict, Forbidden, InvalidInput, as_utc, new_id
from doorstep_shared.uow import CommandResult, UnitOfWork
from sqlalchemy import select

from grid_reports.commands import (
    AssignCase,
    EndWithoutAgreement,
    GiveFeedback,
    HoldSession,
    MergeCase,
    OpenDispute,
    RecordAgreement,
    RecordVisit,
    RejectCase,
    ReportCase,
    ResolveCase,
)
from grid_reports.domain.model import Case, Dispute, Visit
from grid_reports.domain.rules import EXTERNAL_SOURCES, Policy
from grid_reports.models import ResidentRow

HANDLING_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_STAFF, *ADMIN_ROLES)
DISPATCH_ROLES = HANDLING_ROLES
HOTLINE_ROLES = (Role.COMMUNITY_STAFF, *ADMIN_ROLES)
residents = ResidentRow.__table__  # type: ignore[attr-defined]


def actor_id(actor: Principal) -> str:
    """Residents are known by their pseudonymous resident id, everyone else by subject."""
    return actor.resident_id or actor.subject


def _check_source(actor: Principal, source: str, area_code: str) -> str | None:
    """Who may report under which source; returns the reporter id recorded on the case.

    Residents (couriers and party-member households are residents too) report
    anywhere they are; staff file on behalf of callers (hotline, no reporter
    to ask for feedback) or as grid workers, only inside their own areas.
    """
    if actor.role == Role.RESIDENT:
        if source not in EXTERNAL_SOURCES:
            raise Forbidden(
                f"a resident reports as one of: {', '.join(sorted(EXTERNAL_SOURCES))}",
                field="source",
            )
        return actor_id(actor)
    if actor.role == Role.PARTNER:
        # A civic app files for its anonymous users (Open311): no reporter to ask or reward.
        if source != "resident":
            raise Forbidden("a partner app files resident reports only", field="source")
        return None
    actor.require_area(area_code, field="grid_code" if len(area_code) == 15 else "community_code")
    if source == "grid_worker":
        actor.require_role(*HANDLING_ROLES)
        return actor.subject
    if source == "hotline":
        actor.require_role(*HOTLINE_ROLES)
        return None
    raise Forbidden("staff report as grid_worker or hotline", field="source")


async def report_case(
    uow: UnitOfWork,
    cmd: ReportCase,
    actor: Principal,
    now: datetime,
    policy: Policy,
    *,
    channel: str = "api",
) -> CommandResult:
    reporter_id = _check_source(actor, cmd.source, cmd.grid_code or cmd.community_code)
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
        now=now,
        policy=policy,
    )
    uow.add(case)
    return uow.result(case, state=case.state, due_at=case.due_at.isoformat() if case.due_at else None)


async def _staff_case(uow: UnitOfWork, case_id: str, actor: Principal) -> Case:
    actor.require_role(*DISPATCH_ROLES)
    case = await uow.get(Case, case_id, what="case")
    actor.require_area(case.area_code, field="case_id")
    return case


def _done(uow: UnitOfWork, case: Case) -> CommandResult:
    return uow.result(case, state=case.state)


async def accept_case(uow: UnitOfWork, case_id: str, actor: Principal, now: datetime, policy: Policy) -> CommandResult:
    case = await _staff_case(uow, case_id, actor)
    case.accept(by=actor.subject, now=now, policy=policy)
    return _done(uow, case)


async def reject_case(uow: UnitOfWork, case_id: str, cmd: RejectCase, actor: Principal, now: datetime) -> CommandResult:
    case = await _staff_case(uow, case_id, actor)
    case.reject(by=actor.subject, reason=cmd.reason, now=now)
    return _done(uow, case)


async def merge_case(uow: UnitOfWork, case_id: str, cmd: MergeCase, actor: Principal, now: datetime) -> CommandResult:
    case = await _staff_case(uow, case_id, actor)
    primary = await uow.find(Case, cmd.into_case_id)
    if primary is None:
        raise InvalidInput(f"case {cmd.into_case_id} not found", field="into_case_id")
    case.merge_into(primary, by=actor.subject, now=now)
    return _done(uow, case)


async def assign_case(
    uow: UnitOfWork, case_id: str, cmd: AssignCase, actor: Principal, now: datetime, policy: Policy
) -> CommandResult:
    case = await _staff_case(uow, case_id, actor)
    if actor.role == Role.GRID_WORKER and cmd.assignee_id != actor.subject:
        raise Forbidden(
            "a grid worker takes cases for themselves; staff dispatch to others",
            field="assignee_id",
        )
    case.assign(assignee_id=cmd.assignee_id, by=actor.subject, now=now, policy=policy)
    return _done(uow, case)


async def start_case(uow: UnitOfWork, case_id: str, actor: Principal, now: datetime) -> CommandResult:
    case = await _staff_case(uow, case_id, actor)
    case.start(by=actor.subject, now=now)
    return _done(uow, case)


async def resolve_case(
    uow: UnitOfWork, case_id: str, cmd: ResolveCase, actor: Principal, now: datetime, policy: Policy
) -> CommandResult:
    case = await _staff_case(uow, case_id, actor)
    case.resolve(by=actor.subject, resolution=cmd.resolution, photos=cmd.photos, now=now, policy=policy)
    return _done(uow, case)


async def give_feedback(
    uow: UnitOfWork,
    case_id: str,
    cmd: GiveFeedback,
    actor: Principal,
    now: datetime,
    policy: Policy,
) -> CommandResult:
    case = await uow.get(Case, case_id, what="case")
    case.give_feedback(
        reporter_id=actor_id(actor),
        satisfaction=cmd.satisfaction,
        comment=cmd.comment,
        now=now,
        policy=policy,
    )
    return _done(uow, case)


async def close_case(uow: UnitOfWork, case_id: str, actor: Principal, now: datetime, policy: Policy) -> CommandResult:
    case = await _staff_case(uow, case_id, actor)
    case.close(by=actor.subject, now=now, policy=policy)
    return _done(uow, case)


# visits --------------------------------------------------------------------------------


async def record_visit(
    uow: UnitOfWork, cmd: RecordVisit, actor: Principal, now: datetime, policy: Policy
) -> CommandResult:
    """Record a visit; a safety hazard found at home also opens a case here at once."""
    actor.require_role(Role.GRID_WORKER, Role.COMMUNITY_STAFF)
    actor.require_area(cmd.grid_code, field="grid_code")
    if cmd.resident_id:
        status = (
            await uow.session.execute(select(residents.c.status).where(residents.c.id == cmd.resident_id))
        ).scalar()
        if status == "moved_out":
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
                policy=policy,
            )
            uow.add(case)
            case_ids.append(case.id)
    return uow.result(visit, case_ids=case_ids)


# disputes ------------------------------------------------------------------------------


async def open_dispute(uow: UnitOfWork, cmd: OpenDispute, actor: Principal, now: datetime) -> CommandResult:
    actor.require_role(*HANDLING_ROLES)
    actor.require_area(cmd.grid_code or cmd.community_code, field="community_code")
    if cmd.case_id is not None:
        case = await uow.find(Case, cmd.case_id)
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
        now=now,
    )
    uow.add(dispute)
    return uow.result(dispute, state=dispute.state)


async def _staff_dispute(uow: UnitOfWork, dispute_id: str, actor: Principal) -> Dispute:
    actor.require_role(*HANDLING_ROLES)
    dispute = await uow.get(Dispute, dispute_id, what="dispute")
    actor.require_area(dispute.area_code, field="dispute_id")
    return dispute


async def hold_session(
    uow: UnitOfWork, dispute_id: str, cmd: HoldSession, actor: Principal, now: datetime
) -> CommandResult:
    dispute = await _staff_dispute(uow, dispute_id, actor)
    dispute.hold_session(
        mediator_id=actor.subject,
        held_at=as_utc(cmd.held_at) if cmd.held_at else now,
        attendees=cmd.attendees,
        notes=cmd.notes,
        now=now,
    )
    return uow.result(dispute, state=dispute.state, session_no=dispute.sessions)


async def record_agreement(
    uow: UnitOfWork, dispute_id: str, cmd: RecordAgreement, actor: Principal, now: datetime
) -> CommandResult:
    dispute = await _staff_dispute(uow, dispute_id, actor)
    dispute.agree(agreement=cmd.agreement, by=actor.subject, now=now)
    return uow.result(dispute, state=dispute.state)


async def end_without_agreement(
    uow: UnitOfWork, dispute_id: str, cmd: EndWithoutAgreement, actor: Principal, now: datetime
) -> CommandResult:
    dispute = await _staff_dispute(uow, dispute_id, actor)
    dispute.fail(reason=cmd.reason, by=actor.subject, now=now)
    return uow.result(dispute, state=dispute.state)
