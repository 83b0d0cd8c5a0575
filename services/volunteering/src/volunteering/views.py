"""Read-side queries over the read models (never through the aggregates).

Area codes nest by prefix, so "in this area" is a LIKE 'code%' on a community
code. Minutes are reported as minutes; hours are derived for display only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from doorstep_shared.domain import as_utc
from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from volunteering.domain.activities import CHECKED_IN, COMPLETED, HOLDS_A_PLACE, WAITING
from volunteering.models import activities_t as AR
from volunteering.models import helped_t as H
from volunteering.models import ledger_t as L
from volunteering.models import members_t as M
from volunteering.models import participations_t as P
from volunteering.models import residents_t as R
from volunteering.models import teams_t as T
from volunteering.models import totals_t as V


def _row(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = as_utc(value)
    return out


def _in_area(column: Any, area_code: str) -> Any:
    return column.like(f"{area_code}%")


def hours(minutes: int | None) -> float:
    return round((minutes or 0) / 60, 2)


# residents --------------------------------------------------------------------------------------


async def home_community(session: AsyncSession, resident_id: str) -> str | None:
    """Where a volunteer belongs: their registered community, else where they last served."""
    found = (await session.execute(select(R.c.community_code).where(R.c.resident_id == resident_id))).scalar()
    if found:
        return str(found)
    last = (await session.execute(select(V.c.community_code).where(V.c.resident_id == resident_id))).scalar()
    return str(last) if last else None


# teams ------------------------------------------------------------------------------------------


async def teams(session: AsyncSession, area_code: str, focus: str | None) -> list[dict[str, Any]]:
    stmt = select(T).where(_in_area(T.c.community_code, area_code)).order_by(T.c.name)
    if focus:
        stmt = stmt.where(T.c.focus == focus)
    return [_row(r) for r in (await session.execute(stmt)).all()]


async def team(session: AsyncSession, team_id: str) -> dict[str, Any] | None:
    row = (await session.execute(select(T).where(T.c.team_id == team_id))).first()
    return _row(row) if row else None


async def roster(session: AsyncSession, team_id: str) -> dict[str, Any]:
    """A team's active members with their minutes in this team, and the team's totals."""
    per_member = (
        select(
            P.c.resident_id,
            func.coalesce(func.sum(P.c.verified_minutes), 0).label("verified_minutes"),
            func.coalesce(func.sum(case((P.c.status == COMPLETED, P.c.completed_minutes), else_=0)), 0).label(
                "completed_minutes"
            ),
            func.count().label("activities"),
        )
        .where(P.c.team_id == team_id, P.c.status.in_([CHECKED_IN, COMPLETED]))
        .group_by(P.c.resident_id)
        .subquery()
    )
    members = (
        await session.execute(
            select(
                M.c.resident_id,
                M.c.joined_at,
                func.coalesce(per_member.c.verified_minutes, 0).label("verified_minutes"),
                func.coalesce(per_member.c.completed_minutes, 0).label("completed_minutes"),
                func.coalesce(per_member.c.activities, 0).label("activities_attended"),
            )
            .outerjoin(per_member, per_member.c.resident_id == M.c.resident_id)
            .where(M.c.team_id == team_id, M.c.status == "active")
            .order_by(M.c.joined_at)
        )
    ).all()
    totals = (
        await session.execute(
            select(
                func.count(func.distinct(P.c.activity_id)).label("activities"),
                func.coalesce(
                    func.sum(case((P.c.status.in_(HOLDS_A_PLACE), P.c.scheduled_minutes), else_=0)),
                    0,
                ).label("scheduled_minutes"),
                func.coalesce(func.sum(case((P.c.status == COMPLETED, P.c.completed_minutes), else_=0)), 0).label(
                    "completed_minutes"
                ),
                func.coalesce(func.sum(P.c.verified_minutes), 0).label("verified_minutes"),
            ).where(P.c.team_id == team_id)
        )
    ).one()
    out = _row(totals)
    out["verified_hours"] = hours(out["verified_minutes"])
    return {
        "members": [{**_row(m), "verified_hours": hours(m.verified_minutes)} for m in members],
        "totals": out,
    }


# activities -------------------------------------------------------------------------------------


def _activity_columns() -> list[Any]:
    return [
        *AR.c,
        (AR.c.capacity - AR.c.scheduled_count).label("free_places"),
        T.c.name.label("team_name"),
        T.c.focus,
    ]


async def upcoming(
    session: AsyncSession,
    area_code: str,
    now: datetime,
    *,
    skill: str | None,
    free_only: bool,
    limit: int,
) -> list[dict[str, Any]]:
    stmt = (
        select(*_activity_columns())
        .join(T, T.c.team_id == AR.c.team_id)
        .where(
            _in_area(AR.c.community_code, area_code),
            AR.c.status == "open",
            AR.c.starts_at > as_utc(now),
        )
        .order_by(AR.c.starts_at, AR.c.activity_id)
        .limit(limit)
    )
    if free_only:
        stmt = stmt.where(AR.c.scheduled_count < AR.c.capacity)
    rows = [_row(r) for r in (await session.execute(stmt)).all()]
    if skill:  # skills are a short JSON list: filter here rather than per dialect
        rows = [r for r in rows if skill in (r["skills_wanted"] or [])]
    return rows


async def activity(session: AsyncSession, activity_id: str) -> dict[str, Any] | None:
    row = (
        await session.execute(
            select(*_activity_columns()).join(T, T.c.team_id == AR.c.team_id).where(AR.c.activity_id == activity_id)
        )
    ).first()
    return _row(row) if row else None


async def participants(session: AsyncSession, activity_id: str) -> dict[str, list[dict[str, Any]]]:
    """The roster of a shift, the waiting list in the order it will be promoted."""
    rows = (
        await session.execute(
            select(P).where(P.c.activity_id == activity_id).order_by(P.c.waiting_seq, P.c.signed_up_at, P.c.resident_id)
        )
    ).all()
    out: dict[str, list[dict[str, Any]]] = {"volunteers": [], "waiting_list": [], "cancelled": []}
    for r in rows:
        item = _row(r)
        if r.status == WAITING:
            out["waiting_list"].append(item)
        elif r.status == "cancelled":
            out["cancelled"].append(item)
        else:
            out["volunteers"].append(item)
    return out


async def participation(session: AsyncSession, activity_id: str, resident_id: str) -> dict[str, Any] | None:
    row = (
        await session.execute(select(P).where(P.c.activity_id == activity_id, P.c.resident_id == resident_id))
    ).first()
    return _row(row) if row else None


# volunteers -------------------------------------------------------------------------------------


async def history(session: AsyncSession, resident_id: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(P, AR.c.title, AR.c.place, T.c.name.label("team_name"))
            .join(AR, AR.c.activity_id == P.c.activity_id)
            .join(T, T.c.team_id == P.c.team_id)
            .where(P.c.resident_id == resident_id)
            .order_by(P.c.starts_at.desc())
        )
    ).all()
    return [_row(r) for r in rows]


async def totals(session: AsyncSession, resident_id: str) -> dict[str, Any]:
    row = (await session.execute(select(V).where(V.c.resident_id == resident_id))).first()
    out: dict[str, Any] = (
        _row(row)
        if row
        else {
            "resident_id": resident_id,
            "community_code": None,
            "balance": 0,
            "points_earned": 0,
            "points_redeemed": 0,
            "verified_minutes": 0,
            "first_verified_at": None,
        }
    )
    out["verified_hours"] = hours(out["verified_minutes"])
    return out


async def giving_back(session: AsyncSession, resident_id: str) -> dict[str, Any] | None:
    row = (await session.execute(select(H).where(H.c.resident_id == resident_id))).first()
    if row is None:
        return None
    out = _row(row)
    out.pop("resident_id")
    out["hired"], out["trained"] = row.hired_at is not None, row.trained_at is not None
    out["paid_for_piecework"] = row.piecework_at is not None
    return out


async def statement(session: AsyncSession, resident_id: str) -> dict[str, Any]:
    """Every entry in order; the balance is their sum, and each line shows the balance it left."""
    rows = (await session.execute(select(L).where(L.c.resident_id == resident_id).order_by(L.c.seq))).all()
    entries = [_row(r) for r in rows]
    return {
        "resident_id": resident_id,
        "balance": sum(e["points"] for e in entries),
        "verified_minutes": sum(e["minutes"] for e in entries),
        "entries": entries,
    }


async def certificate_records(
    session: AsyncSession, resident_id: str, since: datetime | None, until: datetime | None
) -> list[dict[str, Any]]:
    """Verified service only: who served, in which team, what, when, how long, verified by whom."""
    stmt = (
        select(
            P.c.activity_id,
            AR.c.title,
            AR.c.place,
            P.c.starts_at,
            P.c.ends_at,
            P.c.checked_in_at,
            P.c.checked_out_at,
            P.c.verified_minutes,
            P.c.verified_by,
            P.c.verified_at,
            T.c.team_id,
            T.c.name.label("team_name"),
            T.c.focus,
            T.c.community_code,
        )
        .join(AR, AR.c.activity_id == P.c.activity_id)
        .join(T, T.c.team_id == P.c.team_id)
        .where(P.c.resident_id == resident_id, P.c.verified_minutes.is_not(None))
        .order_by(P.c.starts_at)
    )
    if since is not None:
        stmt = stmt.where(P.c.starts_at >= as_utc(since))
    if until is not None:
        stmt = stmt.where(P.c.starts_at < as_utc(until))
    return [_row(r) for r in (await session.execute(stmt)).all()]


# leaderboards and figures -----------------------------------------------------------------------


async def leaderboard(session: AsyncSession, area_code: str, by: str, limit: int) -> list[dict[str, Any]]:
    column = V.c.verified_minutes if by == "hours" else V.c.points_earned
    rows = (
        await session.execute(
            select(V)
            .where(_in_area(V.c.community_code, area_code), column > 0)
            .order_by(column.desc(), V.c.resident_id)
            .limit(limit)
        )
    ).all()
    return [{**_row(r), "rank": i, "verified_hours": hours(r.verified_minutes)} for i, r in enumerate(rows, start=1)]


async def figures(
    session: AsyncSession, area_code: str, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    """Teams, members, active volunteers, verified hours, points issued/redeemed, givers-back."""

    def period(column: Any) -> list[Any]:
        out = []
        if since is not None:
            out.append(column >= as_utc(since))
        if until is not None:
            out.append(column < as_utc(until))
        return out

    team_count = (
        await session.execute(select(func.count()).select_from(T).where(_in_area(T.c.community_code, area_code)))
    ).scalar_one()
    members = (
        await session.execute(
            select(func.count(func.distinct(M.c.resident_id)))
            .select_from(M.join(T, T.c.team_id == M.c.team_id))
            .where(_in_area(T.c.community_code, area_code), M.c.status == "active")
        )
    ).scalar_one()
    served = and_(
        _in_area(P.c.community_code, area_code),
        P.c.status.in_([CHECKED_IN, COMPLETED]),
        *period(P.c.starts_at),
    )
    active = (await session.execute(select(func.count(func.distinct(P.c.resident_id))).where(served))).scalar_one()
    activities = (
        await session.execute(
            select(func.count())
            .select_from(AR)
            .where(_in_area(AR.c.community_code, area_code), *period(AR.c.starts_at))
        )
    ).scalar_one()
    ledger = (
        await session.execute(
            select(
                func.coalesce(func.sum(L.c.minutes), 0).label("minutes"),
                func.coalesce(func.sum(case((L.c.kind == "credit", L.c.points), else_=0)), 0).label("issued"),
                func.coalesce(func.sum(case((L.c.kind == "credit", 0), else_=-L.c.points)), 0).label("redeemed"),
            ).where(_in_area(L.c.community_code, area_code), *period(L.c.at))
        )
    ).one()
    givers_back = (
        await session.execute(
            select(func.count(func.distinct(H.c.resident_id)))
            .select_from(H.join(P, P.c.resident_id == H.c.resident_id))
            .where(
                _in_area(P.c.community_code, area_code),
                P.c.verified_minutes.is_not(None),
                P.c.starts_at >= H.c.first_helped_at,
                *period(P.c.starts_at),
            )
        )
    ).scalar_one()
    return {
        "area_code": area_code,
        "since": since,
        "until": until,
        "teams": team_count,
        "team_members": members,
        "activities": activities,
        "active_volunteers": active,
        "verified_minutes": int(ledger.minutes),
        "verified_hours": hours(int(ledger.minutes)),
        "points_issued": int(ledger.issued),
        "points_redeemed": int(ledger.redeemed),
        "givers_back": givers_back,
    }
