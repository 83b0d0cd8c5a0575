"""Read side: queries over the read models (never through the aggregates)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.models import (
    ApplicationRow,
    BatchRow,
    CourseRow,
    DeliveryRow,
    EnrolmentRow,
    FairEmployerRow,
    FairRow,
    FairSignupRow,
    LeadRow,
    OrderRow,
    PostingRow,
    ResidentRow,
    SettlementRow,
    core,
    partner_credentials,
)

residents_t = ResidentRow.__table__  # type: ignore[attr-defined]
postings_t = PostingRow.__table__  # type: ignore[attr-defined]
applications_t = ApplicationRow.__table__  # type: ignore[attr-defined]
fairs_t = FairRow.__table__  # type: ignore[attr-defined]
fair_employers_t = FairEmployerRow.__table__  # type: ignore[attr-defined]
fair_signups_t = FairSignupRow.__table__  # type: ignore[attr-defined]
orders_t = OrderRow.__table__  # type: ignore[attr-defined]
batches_t = BatchRow.__table__  # type: ignore[attr-defined]
deliveries_t = DeliveryRow.__table__  # type: ignore[attr-defined]
settlements_t = SettlementRow.__table__  # type: ignore[attr-defined]
courses_t = CourseRow.__table__  # type: ignore[attr-defined]
enrolments_t = EnrolmentRow.__table__  # type: ignore[attr-defined]
leads_t = LeadRow.__table__  # type: ignore[attr-defined]

Row = dict[str, Any]
SEEKING = ("unemployed", "flexible")


async def _one(session: AsyncSession, stmt: Any) -> Row | None:
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row is not None else None


async def _all(session: AsyncSession, stmt: Any) -> list[Row]:
    return [dict(r) for r in (await session.execute(stmt)).mappings().all()]


def _in_area(column: Any, area: str) -> Any:
    return column.startswith(area, autoescape=True)


def _in_any(column: Any, areas: tuple[str, ...]) -> Any:
    return or_(*(_in_area(column, a) for a in areas)) if areas else column.is_(None)


# residents and partners ---------------------------------------------------------------


async def resident(session: AsyncSession, resident_id: str) -> Row | None:
    return await _one(session, select(residents_t).where(residents_t.c.resident_id == resident_id))


async def all_residents(session: AsyncSession) -> list[Row]:
    return await _all(session, select(residents_t).where(residents_t.c.status == "active"))


async def partner(session: AsyncSession, partner_id: str) -> Row | None:
    t = partner_credentials
    return await _one(session, select(t.c.partner_id, t.c.name, t.c.kind).where(t.c.partner_id == partner_id))


async def streams_of_resident(session: AsyncSession, event_type: str, resident_id: str) -> list[str]:
    """Streams whose opening event names the resident, straight from the event log."""
    ev = core.events
    stmt = select(ev.c.stream_id).where(
        ev.c.event_type == event_type, ev.c.data["resident_id"].as_string() == resident_id
    )
    return list((await session.execute(stmt)).scalars())


async def seekers(session: AsyncSession, areas: tuple[str, ...], grid: str | None) -> list[Row]:
    """Residents in the caller's grids who seek work (unemployed, flexible, or with an open lead)."""
    open_lead = select(leads_t.c.resident_id).where(leads_t.c.status == "open")
    stmt = select(residents_t).where(
        residents_t.c.status == "active",
        _in_any(residents_t.c.grid_code, areas),
        or_(residents_t.c.employment_status.in_(SEEKING), residents_t.c.resident_id.in_(open_lead)),
    )
    if grid:
        stmt = stmt.where(_in_area(residents_t.c.grid_code, grid))
    return await _all(session, stmt.order_by(residents_t.c.grid_code, residents_t.c.resident_id).limit(500))


# postings and applications -----------------------------------------------------------------


async def job(session: AsyncSession, job_id: str) -> Row | None:
    return await _one(session, select(postings_t).where(postings_t.c.job_id == job_id))


async def open_jobs(session: AsyncSession) -> list[Row]:
    return await _all(session, select(postings_t).where(postings_t.c.status == "published"))


async def jobs(
    session: AsyncSession,
    *,
    area: str | None,
    status: str | None,
    employment_type: str | None,
    partner_id: str | None,
    limit: int,
    offset: int,
) -> list[Row]:
    stmt = select(postings_t)
    if area:
        stmt = stmt.where(_in_area(postings_t.c.community_code, area))
    if status:
        stmt = stmt.where(postings_t.c.status == status)
    if employment_type:
        stmt = stmt.where(postings_t.c.employment_type == employment_type)
    if partner_id:
        stmt = stmt.where(postings_t.c.partner_id == partner_id)
    stmt = stmt.order_by(postings_t.c.valid_through, postings_t.c.job_id).limit(limit).offset(offset)
    return await _all(session, stmt)


async def expired_jobs(session: AsyncSession, now: datetime) -> list[str]:
    stmt = select(postings_t.c.job_id).where(postings_t.c.status == "published", postings_t.c.valid_through <= now)
    return list((await session.execute(stmt)).scalars())


async def application(session: AsyncSession, application_id: str) -> Row | None:
    return await _one(session, select(applications_t).where(applications_t.c.application_id == application_id))


async def applications(
    session: AsyncSession,
    *,
    job_id: str | None = None,
    resident_id: str | None = None,
    status: str | None = None,
) -> list[Row]:
    stmt = select(applications_t)
    if job_id:
        stmt = stmt.where(applications_t.c.job_id == job_id)
    if resident_id:
        stmt = stmt.where(applications_t.c.resident_id == resident_id)
    if status:
        stmt = stmt.where(applications_t.c.status == status)
    return await _all(session, stmt.order_by(applications_t.c.updated_at, applications_t.c.application_id))


# fairs ---------------------------------------------------------------------------------------------


async def fair(session: AsyncSession, fair_id: str) -> Row | None:
    row = await _one(session, select(fairs_t).where(fairs_t.c.fair_id == fair_id))
    if row is None:
        return None
    row["employer_list"] = await _all(
        session,
        select(
            fair_employers_t.c.partner_id,
            fair_employers_t.c.employer_name,
            fair_employers_t.c.job_ids,
        ).where(fair_employers_t.c.fair_id == fair_id),
    )
    row["signup_list"] = await _all(
        session,
        select(fair_signups_t.c.resident_id, fair_signups_t.c.signed_up_by).where(fair_signups_t.c.fair_id == fair_id),
    )
    return row


async def fairs(
    session: AsyncSession,
    *,
    area: str | None,
    date_from: str | None,
    date_to: str | None,
    series_id: str | None,
) -> list[Row]:
    stmt = select(fairs_t)
    if area:
        stmt = stmt.where(_in_area(fairs_t.c.community_code, area))
    if date_from:
        stmt = stmt.where(fairs_t.c.date >= date_from)
    if date_to:
        stmt = stmt.where(fairs_t.c.date <= date_to)
    if series_id:
        stmt = stmt.where(fairs_t.c.series_id == series_id)
    return await _all(session, stmt.order_by(fairs_t.c.date, fairs_t.c.fair_id).limit(500))


# piecework ------------------------------------------------------------------------------------------


async def order(session: AsyncSession, order_id: str) -> Row | None:
    row = await _one(session, select(orders_t).where(orders_t.c.order_id == order_id))
    if row is None:
        return None
    row["delivered"] = row["accepted"] + row["rejected"]
    row["owed_fen"] = row["earned_fen"] - row["paid_fen"]
    row["batches"] = await _all(
        session,
        select(batches_t).where(batches_t.c.order_id == order_id).order_by(batches_t.c.issued_at),
    )
    return row


async def orders(session: AsyncSession, *, area: str | None, partner_id: str | None) -> list[Row]:
    stmt = select(orders_t)
    if area:
        stmt = stmt.where(_in_area(orders_t.c.community_code, area))
    if partner_id:
        stmt = stmt.where(orders_t.c.partner_id == partner_id)
    return await _all(session, stmt.order_by(orders_t.c.deadline).limit(500))


async def money_per_resident(session: AsyncSession, order_id: str) -> list[Row]:
    """Per resident: pieces issued, delivered, accepted, earned, paid and still owed."""
    d = deliveries_t
    earned = await _all(
        session,
        select(
            d.c.resident_id,
            func.sum(d.c.accepted).label("accepted"),
            func.sum(d.c.rejected).label("rejected"),
            func.sum(d.c.amount_fen).label("earned_fen"),
            func.sum(case((d.c.settlement_id.is_(None), d.c.amount_fen), else_=0)).label("owed_fen"),
        )
        .where(d.c.order_id == order_id)
        .group_by(d.c.resident_id),
    )
    issued: dict[str, int] = dict(
        (
            await session.execute(
                select(batches_t.c.resident_id, func.sum(batches_t.c.quantity))
                .where(batches_t.c.order_id == order_id)
                .group_by(batches_t.c.resident_id)
            )
        ).all()
    )
    by_resident = {r["resident_id"]: r for r in earned}
    out = []
    for rid in sorted(set(issued) | set(by_resident)):
        r = by_resident.get(rid, {"accepted": 0, "rejected": 0, "earned_fen": 0, "owed_fen": 0})
        out.append(
            {
                "resident_id": rid,
                "issued": int(issued.get(rid, 0)),
                "accepted": int(r["accepted"] or 0),
                "rejected": int(r["rejected"] or 0),
                "earned_fen": int(r["earned_fen"] or 0),
                "paid_fen": int(r["earned_fen"] or 0) - int(r["owed_fen"] or 0),
                "owed_fen": int(r["owed_fen"] or 0),
            }
        )
    return out


async def settlements(session: AsyncSession, order_id: str) -> list[Row]:
    """Each payout with the deliveries it paid: the fen add up exactly."""
    rows = await _all(
        session,
        select(settlements_t).where(settlements_t.c.order_id == order_id).order_by(settlements_t.c.settled_at),
    )
    for row in rows:
        row["deliveries"] = await _all(
            session,
            select(
                deliveries_t.c.delivery_id,
                deliveries_t.c.batch_id,
                deliveries_t.c.accepted,
                deliveries_t.c.rejected,
                deliveries_t.c.amount_fen,
                deliveries_t.c.delivered_at,
            )
            .where(deliveries_t.c.settlement_id == row["settlement_id"])
            .order_by(deliveries_t.c.delivered_at),
        )
    return rows


# training -----------------------------------------------------------------------------------------------


async def course(session: AsyncSession, course_id: str) -> Row | None:
    return await _one(session, select(courses_t).where(courses_t.c.course_id == course_id))


async def courses(session: AsyncSession, *, area: str | None, skill: str | None) -> list[Row]:
    stmt = select(courses_t)
    if area:
        stmt = stmt.where(_in_area(courses_t.c.community_code, area))
    if skill:
        stmt = stmt.where(courses_t.c.skill == skill)
    return await _all(session, stmt.order_by(courses_t.c.title).limit(500))


async def roster(session: AsyncSession, course_id: str) -> list[Row]:
    order = case(
        (enrolments_t.c.status == "enrolled", 0),
        (enrolments_t.c.status == "completed", 1),
        (enrolments_t.c.status == "waitlisted", 2),
        else_=3,
    )
    stmt = (
        select(enrolments_t)
        .where(enrolments_t.c.course_id == course_id)
        .order_by(order, enrolments_t.c.updated_at, enrolments_t.c.enrolment_id)
    )
    return await _all(session, stmt)


async def enrolment(session: AsyncSession, enrolment_id: str) -> Row | None:
    return await _one(session, select(enrolments_t).where(enrolments_t.c.enrolment_id == enrolment_id))


# leads and totals ------------------------------------------------------------------------------------------


async def leads(session: AsyncSession, areas: tuple[str, ...], status: str | None) -> list[Row]:
    stmt = select(leads_t).where(_in_any(leads_t.c.grid_code, areas))
    if status:
        stmt = stmt.where(leads_t.c.status == status)
    return await _all(session, stmt.order_by(leads_t.c.opened_at).limit(500))


async def totals(session: AsyncSession, area: str) -> Row:
    """Per-area totals: postings by the job's community, applications and hires by the
    resident's community, piecework pay by the order's community, completions by the
    course's community."""

    async def scalar(stmt: Any) -> int:
        return int((await session.execute(stmt)).scalar() or 0)

    a = applications_t
    return {
        "area_code": area,
        "postings": await scalar(
            select(func.count()).where(_in_area(postings_t.c.community_code, area), postings_t.c.status != "draft")
        ),
        "open_postings": await scalar(
            select(func.count()).where(_in_area(postings_t.c.community_code, area), postings_t.c.status == "published")
        ),
        "applications": await scalar(select(func.count()).where(_in_area(a.c.community_code, area))),
        "hires": await scalar(
            select(func.count()).where(and_(_in_area(a.c.community_code, area), a.c.status == "hired"))
        ),
        "piecework_paid_fen": await scalar(
            select(func.sum(settlements_t.c.amount_fen)).where(_in_area(settlements_t.c.community_code, area))
        ),
        "training_completions": await scalar(
            select(func.count()).where(
                _in_area(enrolments_t.c.community_code, area), enrolments_t.c.status == "completed"
            )
        ),
    }
