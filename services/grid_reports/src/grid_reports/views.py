"""Read-side queries over the read models (never through aggregates).

The one exception is a case's history, which is its event stream: the log is
the record of what happened, so the history is read from it directly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from doorstep_contracts.grid_reports import CaseReported
from doorstep_shared.area_filters import in_any_scope
from doorstep_shared.auth import Principal
from doorstep_shared.domain import NotFound, as_utc
from doorstep_shared.eventstore import EventStore
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from grid_reports import authz
from grid_reports.domain.rules import KINDS
from grid_reports.models import ERASED_TEXT, cases, disputes, parties, residents, sessions, visits

PERSONAL_FIELDS = (
    "description",
    "photos",
    "comment",
    "address",
    "building",
    "latitude",
    "longitude",
)


def _plain(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = as_utc(value)
    return out


def within_areas(column: Any, areas: Sequence[str]) -> ColumnElement[bool]:
    """Inside any of `areas`, compared by whole segments (none: no row)."""
    return in_any_scope(column, areas)


def case_area() -> Any:
    return func.coalesce(cases.c.grid_code, cases.c.community_code)


# cases -----------------------------------------------------------------------------------


async def get_case(session: AsyncSession, case_id: str) -> dict[str, Any] | None:
    row = (await session.execute(select(cases).where(cases.c.id == case_id))).first()
    return _plain(row) if row else None


async def readable_case(session: AsyncSession, case_id: str, principal: Principal) -> dict[str, Any]:
    """The case, when the caller may read it: reporters their own, staff those of their areas."""
    case = await get_case(session, case_id)
    if case is None:
        raise NotFound(f"case {case_id} not found", field="case_id")
    authz.require_case_reader(principal, case)
    return case


async def list_cases(
    session: AsyncSession,
    *,
    areas: Sequence[str] | None = None,
    reporter_id: str | None = None,
    state: str | None = None,
    kind: str | None = None,
    kinds: Sequence[str] | None = None,
    category: str | None = None,
    public_categories: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    stmt = select(cases)
    if areas is not None:
        stmt = stmt.where(or_(within_areas(case_area(), areas), within_areas(cases.c.escalated_to, areas)))
    if reporter_id is not None:
        stmt = stmt.where(cases.c.reporter_id == reporter_id)
    if state:
        stmt = stmt.where(cases.c.state == state)
    if kind:
        stmt = stmt.where(cases.c.kind == kind)
    if kinds is not None:
        stmt = stmt.where(cases.c.kind.in_(kinds))
    if category:
        stmt = stmt.where(cases.c.category == category)
    if public_categories is not None:
        stmt = stmt.where(cases.c.category.in_(public_categories))
    if since:
        stmt = stmt.where(cases.c.reported_at >= since)
    if until:
        stmt = stmt.where(cases.c.reported_at <= until)
    stmt = stmt.order_by(cases.c.reported_at.desc(), cases.c.id).limit(limit).offset(offset)
    return [_plain(r) for r in (await session.execute(stmt)).all()]


async def queue(
    session: AsyncSession, worker_id: str, areas: Sequence[str], now: datetime, due_soon: timedelta
) -> dict[str, list[dict[str, Any]]]:
    """A grid worker's queue: cases assigned to them, cases waiting for someone in their grids,
    and of those, which fall due soon and which are already overdue."""
    mine = and_(cases.c.assignee_id == worker_id, cases.c.kind == "open")
    waiting = and_(cases.c.state.in_(("reported", "accepted")), within_areas(case_area(), areas))
    rows = [
        _plain(r)
        for r in (
            await session.execute(
                select(cases).where(or_(mine, waiting)).order_by(cases.c.due_at.is_(None), cases.c.due_at)
            )
        ).all()
    ]
    return {
        "assigned": [r for r in rows if r["assignee_id"] == worker_id],
        "waiting": [r for r in rows if r["assignee_id"] != worker_id],
        "due_soon": [r for r in rows if r["due_at"] and now < r["due_at"] <= now + due_soon],
        "overdue": [r for r in rows if r["due_at"] and r["due_at"] <= now],
    }


async def board(session: AsyncSession, community_code: str) -> dict[str, Any]:
    """A community's board: case counts by category and state, and by kind."""
    stmt = (
        select(cases.c.category, cases.c.state, cases.c.kind, func.count())
        .where(cases.c.community_code == community_code)
        .group_by(cases.c.category, cases.c.state, cases.c.kind)
    )
    by_category: dict[str, dict[str, int]] = defaultdict(dict)
    by_kind: dict[str, int] = dict.fromkeys(KINDS, 0)
    for category, state, kind, n in (await session.execute(stmt)).all():
        by_category[category][state] = n
        by_kind[kind] += n
    escalated = (
        await session.execute(
            select(func.count()).where(
                cases.c.community_code == community_code,
                cases.c.kind == "open",
                cases.c.escalations > 0,
            )
        )
    ).scalar() or 0
    return {
        "community_code": community_code,
        "by_category": dict(by_category),
        "by_kind": by_kind,
        "open_escalated": escalated,
    }


async def history(session: AsyncSession, store: EventStore, case_id: str, *, erased: bool) -> list[dict[str, Any]]:
    """The case's events in order; an erased reporter's identity and free text are masked."""
    stored = await store.history(session, case_id)
    reporter = stored[0].data.get("reporter_id") if stored and erased else None
    out = []
    for e in stored:
        data = dict(e.data)
        actor = (e.meta or {}).get("actor")
        if erased:
            for key in PERSONAL_FIELDS:
                if data.get(key):
                    data[key] = ERASED_TEXT if isinstance(data[key], str) else None
            reporters_act = reporter is not None and reporter in data.values()
            data = {k: (None if reporter is not None and v == reporter else v) for k, v in data.items()}
            if e.event_type == CaseReported.type_name() or reporters_act:
                actor = None
        out.append(
            {
                "position": e.position,
                "version": e.version,
                "type": e.event_type,
                "data": data,
                "actor": actor,
                "recorded_at": as_utc(e.recorded_at),
            }
        )
    return out


# figures ----------------------------------------------------------------------------------


async def figures(session: AsyncSession, area_code: str, since: datetime, until: datetime) -> dict[str, Any]:
    """Per-area figures over [since, until]: the dashboard of the four-level linkage."""
    in_area = within_areas(case_area(), [area_code])
    reported = (
        await session.execute(
            select(func.count()).where(in_area, cases.c.reported_at >= since, cases.c.reported_at <= until)
        )
    ).scalar() or 0
    resolved_rows = (
        await session.execute(
            select(cases.c.escalations).where(in_area, cases.c.resolved_at >= since, cases.c.resolved_at <= until)
        )
    ).all()
    closed_rows = (
        await session.execute(
            select(cases.c.reported_at, cases.c.closed_at, cases.c.satisfaction).where(
                in_area,
                cases.c.state == "closed",
                cases.c.closed_at >= since,
                cases.c.closed_at <= until,
            )
        )
    ).all()
    resolved = len(resolved_rows)
    within = sum(1 for r in resolved_rows if r.escalations == 0)
    hours = [(as_utc(r.closed_at) - as_utc(r.reported_at)).total_seconds() / 3600 for r in closed_rows]
    scores = [r.satisfaction for r in closed_rows if r.satisfaction is not None]

    d_area = within_areas(func.coalesce(disputes.c.grid_code, disputes.c.community_code), [area_code])
    d_window = and_(d_area, disputes.c.opened_at >= since, disputes.c.opened_at <= until)
    mediated = (await session.execute(select(func.count()).where(d_window, disputes.c.sessions > 0))).scalar() or 0
    agreed = (await session.execute(select(func.count()).where(d_window, disputes.c.state == "agreed"))).scalar() or 0

    done = (
        await session.execute(
            select(func.count()).where(
                within_areas(visits.c.grid_code, [area_code]),
                visits.c.visited_at >= since,
                visits.c.visited_at <= until,
            )
        )
    ).scalar() or 0
    cadences = (
        await session.execute(
            select(residents.c.cadence_days, residents.c.visit_due_at).where(
                within_areas(residents.c.grid_code, [area_code]),
                residents.c.status == "active",
                residents.c.cadence_days.is_not(None),
            )
        )
    ).all()
    days = (until - since).total_seconds() / 86400
    due = sum(max(1, round(days / r.cadence_days)) for r in cadences)
    overdue = sum(1 for r in cadences if r.visit_due_at is not None and as_utc(r.visit_due_at) <= until)
    return {
        "area_code": area_code,
        "since": since,
        "until": until,
        "cases_reported": reported,
        "cases_resolved": resolved,
        "within_deadline_pct": round(100 * within / resolved, 1) if resolved else None,
        "avg_hours_to_close": round(sum(hours) / len(hours), 1) if hours else None,
        "satisfaction_avg": round(sum(scores) / len(scores), 2) if scores else None,
        "disputes_mediated": mediated,
        "disputes_agreed": agreed,
        "visits_done": done,
        "visits_due": due,
        "residents_overdue_for_visit": overdue,
    }


# visits ------------------------------------------------------------------------------------


async def resident_status(session: AsyncSession, resident_id: str) -> str | None:
    """A resident's status in this service's copy of registration (None: not known here yet)."""
    status = (await session.execute(select(residents.c.status).where(residents.c.id == resident_id))).scalar()
    return None if status is None else str(status)


async def list_visits(
    session: AsyncSession,
    areas: Sequence[str],
    *,
    resident_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    stmt = select(visits).where(within_areas(visits.c.grid_code, areas))
    if resident_id:
        stmt = stmt.where(visits.c.resident_id == resident_id)
    stmt = stmt.order_by(visits.c.visited_at.desc(), visits.c.id).limit(limit).offset(offset)
    return [_plain(r) for r in (await session.execute(stmt)).all()]


async def overdue_visits(session: AsyncSession, areas: Sequence[str], now: datetime) -> list[dict[str, Any]]:
    """Key-population residents whose visit is due, most overdue first."""
    stmt = (
        select(
            residents.c.id.label("resident_id"),
            residents.c.community_code,
            residents.c.grid_code,
            residents.c.household_id,
            residents.c.tags,
            residents.c.cadence_days,
            residents.c.last_visit_at,
            residents.c.visit_due_at,
        )
        .where(
            within_areas(residents.c.grid_code, areas),
            residents.c.status == "active",
            residents.c.visit_due_at <= now,
        )
        .order_by(residents.c.visit_due_at)
    )
    out = []
    for r in (await session.execute(stmt)).all():
        row = _plain(r)
        row["days_overdue"] = (now - row["visit_due_at"]).days
        out.append(row)
    return out


# disputes ----------------------------------------------------------------------------------


async def get_dispute(session: AsyncSession, dispute_id: str) -> dict[str, Any] | None:
    row = (await session.execute(select(disputes).where(disputes.c.id == dispute_id))).first()
    if row is None:
        return None
    out = _plain(row)
    out["parties"] = [
        _plain(p)
        for p in (
            await session.execute(
                select(parties.c.party_id, parties.c.kind)
                .where(parties.c.dispute_id == dispute_id)
                .order_by(parties.c.party_id)
            )
        ).all()
    ]
    out["sessions"] = [
        _plain(s)
        for s in (
            await session.execute(
                select(
                    sessions.c.session_no,
                    sessions.c.mediator_id,
                    sessions.c.attendees,
                    sessions.c.notes,
                    sessions.c.held_at,
                )
                .where(sessions.c.dispute_id == dispute_id)
                .order_by(sessions.c.session_no)
            )
        ).all()
    ]
    return out


async def readable_dispute(session: AsyncSession, dispute_id: str, principal: Principal) -> dict[str, Any]:
    """The dispute with its parties and sessions, when it lies in the caller's areas."""
    dispute = await get_dispute(session, dispute_id)
    if dispute is None:
        raise NotFound(f"dispute {dispute_id} not found", field="dispute_id")
    authz.require_dispute_reader(principal, dispute)
    return dispute


async def list_disputes(
    session: AsyncSession,
    areas: Sequence[str],
    *,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    stmt = select(disputes).where(within_areas(func.coalesce(disputes.c.grid_code, disputes.c.community_code), areas))
    if state:
        stmt = stmt.where(disputes.c.state == state)
    stmt = stmt.order_by(disputes.c.opened_at.desc(), disputes.c.id).limit(limit).offset(offset)
    return [_plain(r) for r in (await session.execute(stmt)).all()]
