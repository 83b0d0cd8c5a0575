"""Queries over registration's read models (never through the aggregates).

Each answers one endpoint's response model. Personal fields are opened here
with the resident's data key, and masked unless `authz` says the viewer sees
them in full; an erased resident's key is gone, so they read as null.
"""

from __future__ import annotations

from typing import Any

from doorstep_contracts.registration import (
    ResidentErased,
    ResidentMovedWithinCommunity,
    ResidentRegistered,
    ResidentTransferred,
)
from doorstep_shared.area_filters import in_any_scope, in_scope
from doorstep_shared.areas import is_area_code, within
from doorstep_shared.auth import Principal
from doorstep_shared.domain import NotFound
from doorstep_shared.eventstore import EventStore
from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from registration import authz
from registration.domain.enums import EmploymentStatus, ResidentStatus, Tag
from registration.domain.validators import mask_id_number, mask_mobile
from registration.models import (
    RESIDENTS,
    AreaRow,
    PartnerRow,
    ResidentRow,
    ResidentSkill,
    ResidentTag,
    StaffRow,
)
from registration.schemas import (
    AreaChild,
    AreaView,
    HistoryEntry,
    PartnerView,
    ResidentPage,
    ResidentView,
    StaffView,
)
from registration.security import PiiVault

# the read of one resident (the busiest query) is built once and returns plain rows
_ONE_RESIDENT = select(RESIDENTS).where(RESIDENTS.c.id == bindparam("resident_id"))
# the events that say where a resident lives
_PLACED = frozenset(e.type_name() for e in (ResidentRegistered, ResidentMovedWithinCommunity, ResidentTransferred))
_ERASED = ResidentErased.type_name()


# residents -----------------------------------------------------------------------------------


def resident_public(row: Any, key: bytes | None, viewer: Principal) -> ResidentView:
    """A resident row (ORM object or plain row) as the API shows it to `viewer`."""
    name = PiiVault.open(key, row.id, "name", row.name_enc)
    id_number = PiiVault.open(key, row.id, "id_number", row.id_number_enc)
    mobile = PiiVault.open(key, row.id, "mobile", row.mobile_enc)
    if not authz.sees_unmasked(viewer, row.grid_code, row.community_code):
        id_number = mask_id_number(id_number) if id_number else None
        mobile = mask_mobile(mobile) if mobile else None
    return ResidentView(
        id=row.id,
        name=name,
        id_number=id_number,
        mobile=mobile,
        community_code=row.community_code,
        grid_code=row.grid_code,
        building=row.building,
        unit=row.unit,
        household_id=row.household_id,
        hukou=row.hukou,
        sex=row.sex,
        birth_year=row.birth_year,
        status=row.status,
        employment_status=row.employment_status,
        tags=row.tags,
        skills=row.skills,
        verified_skills=row.verified_skills,
        availability=row.availability,
        job_preferences=row.job_preferences,
        consent=row.consent,
        version=row.version,
        registered_at=row.registered_at,
        updated_at=row.updated_at,
    )


async def get_resident(session: AsyncSession, vault: PiiVault, resident_id: str, viewer: Principal) -> ResidentView:
    row = (await session.execute(_ONE_RESIDENT, {"resident_id": resident_id})).first()
    if row is None:
        raise NotFound(f"resident {resident_id} not found", field="resident_id")
    authz.check_resident_in_scope(viewer, row.grid_code)
    return resident_public(row, await vault.key_for(session, row.id), viewer)


def _in_areas(column: Any, viewer: Principal) -> Any:
    return in_any_scope(column, viewer.areas)


def _holds(code: str, grid_code: str) -> bool:
    """Whether area `code` counts the grid as its own: by whole segments, or by prefix for an
    area whose code breaks the rule (recorded before codes were checked), which holds only such grids."""
    return within(grid_code, code) if is_area_code(code) else grid_code.startswith(code)


def _grids_of(code: str) -> Any:
    """`_holds` in SQL."""
    grid = col(ResidentRow.grid_code)
    return in_scope(grid, code) if is_area_code(code) else grid.startswith(code, autoescape=True)


async def list_residents(
    session: AsyncSession,
    vault: PiiVault,
    viewer: Principal,
    *,
    community_code: str | None,
    grid_code: str | None,
    tag: Tag | None,
    employment_status: EmploymentStatus | None,
    skill: str | None,
    status: ResidentStatus | None,
    limit: int,
    offset: int,
) -> ResidentPage:
    """Residents of the viewer's areas, oldest registration first."""
    stmt = select(ResidentRow).where(_in_areas(col(ResidentRow.grid_code), viewer))
    if community_code:
        stmt = stmt.where(col(ResidentRow.community_code) == community_code)
    if grid_code:
        stmt = stmt.where(col(ResidentRow.grid_code) == grid_code)
    if employment_status:
        stmt = stmt.where(col(ResidentRow.employment_status) == employment_status)
    if status:
        stmt = stmt.where(col(ResidentRow.status) == status)
    if tag:
        stmt = stmt.where(
            col(ResidentRow.id).in_(select(col(ResidentTag.resident_id)).where(col(ResidentTag.tag) == tag))
        )
    if skill:
        stmt = stmt.where(
            col(ResidentRow.id).in_(
                select(col(ResidentSkill.resident_id)).where(col(ResidentSkill.skill) == skill.lower())
            )
        )
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar() or 0
    page = stmt.order_by(col(ResidentRow.registered_at), col(ResidentRow.id)).limit(limit).offset(offset)
    rows = (await session.execute(page)).scalars().all()
    keys = await vault.keys_for(session, [r.id for r in rows])
    return ResidentPage(
        items=[resident_public(r, keys.get(r.id), viewer) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


async def resident_history(
    session: AsyncSession, store: EventStore, resident_id: str, viewer: Principal
) -> list[HistoryEntry]:
    """The resident's events from the log, for those who keep the record where the resident lives now.

    Once erased, the events say only that the resident existed and what happened
    when, by whom: their data (place, sex, birth year, tags, skills, the ID
    number's hash) would single the person out again, so none of it is shown.
    """
    events = await store.history(session, resident_id)
    if not events:
        return []
    grid_code = next((e.data["grid_code"] for e in reversed(events) if e.event_type in _PLACED), "")
    authz.check_resident_history(viewer, grid_code)
    erased = any(e.event_type == _ERASED for e in events)
    return [
        HistoryEntry(
            position=e.position,
            version=e.version,
            type=e.event_type,
            time=e.recorded_at,
            actor=e.meta.get("actor"),
            data={"resident_id": resident_id} if erased else e.data,
        )
        for e in events
    ]


# areas ---------------------------------------------------------------------------------------


async def get_area(session: AsyncSession, code: str) -> AreaView:
    """An area, its children, and the active residents in each."""
    area = await session.get(AreaRow, code)
    if area is None:
        raise NotFound(f"area {code} not found", field="code")
    children = (
        (await session.execute(select(AreaRow).where(col(AreaRow.parent_code) == code).order_by(col(AreaRow.code))))
        .scalars()
        .all()
    )
    active = col(ResidentRow.status) == ResidentStatus.ACTIVE
    under = _grids_of(code)
    residents = (await session.execute(select(func.count()).where(under, active))).scalar() or 0
    per_grid = (
        select(col(ResidentRow.grid_code), func.count()).where(under, active).group_by(col(ResidentRow.grid_code))
    )
    child_counts: dict[str, int] = {g: n for g, n in (await session.execute(per_grid)).all()}
    return AreaView(
        code=area.code,
        name=area.name,
        level=area.level,
        parent_code=area.parent_code,
        residents=residents,
        children=[
            AreaChild(
                code=c.code,
                name=c.name,
                level=c.level,
                residents=sum(n for g, n in child_counts.items() if _holds(c.code, g)),
            )
            for c in children
        ],
    )


# partners ------------------------------------------------------------------------------------


async def list_partners(
    session: AsyncSession, viewer: Principal, kind: str | None, status: str | None
) -> list[PartnerView]:
    stmt = select(PartnerRow).where(_in_areas(col(PartnerRow.area_code), viewer))
    if kind:
        stmt = stmt.where(col(PartnerRow.kind) == kind)
    if status:
        stmt = stmt.where(col(PartnerRow.status) == status)
    rows = (await session.execute(stmt.order_by(col(PartnerRow.registered_at)))).scalars().all()
    return [PartnerView.model_validate(r.model_dump()) for r in rows]


async def get_partner(session: AsyncSession, partner_id: str, viewer: Principal) -> PartnerView:
    row = await session.get(PartnerRow, partner_id)
    if row is None:
        raise NotFound(f"partner {partner_id} not found", field="partner_id")
    authz.check_partner_reader(viewer, partner_id, row.area_code)
    return PartnerView.model_validate(row.model_dump())


# staff ---------------------------------------------------------------------------------------


async def list_staff(session: AsyncSession, viewer: Principal) -> list[StaffView]:
    """Staff acting in the viewer's areas, by username."""
    rows = (await session.execute(select(StaffRow).order_by(col(StaffRow.username)))).scalars().all()
    return [StaffView.model_validate(r.model_dump()) for r in rows if authz.sees_staff(viewer, r.areas)]
