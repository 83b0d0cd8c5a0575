"""Queries over registration's read models (never through the aggregates)."""

from __future__ import annotations

from typing import Any

from doorstep_shared.auth import Principal, Role
from doorstep_shared.domain import NotFound
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

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
from registration.security import PiiVault

# the read of one resident (the busiest query) is built once and returns plain rows
_ONE_RESIDENT = select(RESIDENTS).where(RESIDENTS.c.id == bindparam("resident_id"))


def sees_unmasked(viewer: Principal, row: Any) -> bool:
    """Full ID number and phone: the resident's own grid worker and community staff only."""
    if viewer.role == Role.GRID_WORKER:
        return viewer.can_act_in(row.grid_code)
    if viewer.role == Role.COMMUNITY_STAFF:
        return viewer.can_act_in(row.community_code)
    return False


def resident_public(row: Any, key: bytes | None, viewer: Principal) -> dict[str, Any]:
    """A resident row (ORM object or plain row) as the API shows it to `viewer`."""
    name = PiiVault.open(key, row.id, "name", row.name_enc)
    id_number = PiiVault.open(key, row.id, "id_number", row.id_number_enc)
    mobile = PiiVault.open(key, row.id, "mobile", row.mobile_enc)
    if not sees_unmasked(viewer, row):
        id_number = mask_id_number(id_number) if id_number else None
        mobile = mask_mobile(mobile) if mobile else None
    return {
        "id": row.id,
        "name": name,
        "id_number": id_number,
        "mobile": mobile,
        "community_code": row.community_code,
        "grid_code": row.grid_code,
        "building": row.building,
        "unit": row.unit,
        "household_id": row.household_id,
        "hukou": row.hukou,
        "sex": row.sex,
        "birth_year": row.birth_year,
        "status": row.status,
        "employment_status": row.employment_status,
        "tags": row.tags,
        "skills": row.skills,
        "verified_skills": row.verified_skills,
        "availability": row.availability,
        "job_preferences": row.job_preferences,
        "consent": row.consent,
        "version": row.version,
        "registered_at": row.registered_at,
        "updated_at": row.updated_at,
    }


async def get_resident(session: AsyncSession, vault: PiiVault, resident_id: str, viewer: Principal) -> dict[str, Any]:
    row = (await session.execute(_ONE_RESIDENT, {"resident_id": resident_id})).first()
    if row is None:
        raise NotFound(f"resident {resident_id} not found", field="resident_id")
    viewer.require_area(row.grid_code, field="resident_id")
    return resident_public(row, await vault.key_for(session, row.id), viewer)


def _scope_filter(viewer: Principal) -> Any:
    return or_(*[col(ResidentRow.grid_code).startswith(a) for a in viewer.areas])


async def list_residents(
    session: AsyncSession,
    vault: PiiVault,
    viewer: Principal,
    *,
    community_code: str | None,
    grid_code: str | None,
    tag: str | None,
    employment_status: str | None,
    skill: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    stmt = select(ResidentRow).where(_scope_filter(viewer))
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
    rows = (
        (
            await session.execute(
                stmt.order_by(col(ResidentRow.registered_at), col(ResidentRow.id)).limit(limit).offset(offset)
            )
        )
        .scalars()
        .all()
    )
    keys = await vault.keys_for(session, [r.id for r in rows])
    return {
        "items": [resident_public(r, keys.get(r.id), viewer) for r in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


async def get_area(session: AsyncSession, code: str) -> dict[str, Any]:
    area = await session.get(AreaRow, code)
    if area is None:
        raise NotFound(f"area {code} not found", field="code")
    children = (
        (await session.execute(select(AreaRow).where(col(AreaRow.parent_code) == code).order_by(col(AreaRow.code))))
        .scalars()
        .all()
    )
    active = col(ResidentRow.status) == "active"
    residents = (
        await session.execute(select(func.count()).where(col(ResidentRow.grid_code).startswith(code), active))
    ).scalar() or 0
    child_counts = dict(
        (
            await session.execute(
                select(col(ResidentRow.grid_code), func.count())
                .where(col(ResidentRow.grid_code).startswith(code), active)
                .group_by(col(ResidentRow.grid_code))
            )
        ).all()
    )
    return {
        "code": area.code,
        "name": area.name,
        "level": area.level,
        "parent_code": area.parent_code,
        "residents": residents,
        "children": [
            {
                "code": c.code,
                "name": c.name,
                "level": c.level,
                "residents": sum(n for g, n in child_counts.items() if g.startswith(c.code)),
            }
            for c in children
        ],
    }


async def list_partners(
    session: AsyncSession, viewer: Principal, kind: str | None, status: str | None
) -> list[dict[str, Any]]:
    stmt = select(PartnerRow).where(or_(*[col(PartnerRow.area_code).startswith(a) for a in viewer.areas]))
    if kind:
        stmt = stmt.where(col(PartnerRow.kind) == kind)
    if status:
        stmt = stmt.where(col(PartnerRow.status) == status)
    rows = (await session.execute(stmt.order_by(col(PartnerRow.registered_at)))).scalars().all()
    return [r.model_dump() for r in rows]


async def get_partner(session: AsyncSession, partner_id: str, viewer: Principal) -> dict[str, Any]:
    row = await session.get(PartnerRow, partner_id)
    if row is None:
        raise NotFound(f"partner {partner_id} not found", field="partner_id")
    if viewer.partner_id != partner_id:
        viewer.require_area(row.area_code)
    return row.model_dump()


async def list_staff(session: AsyncSession, viewer: Principal) -> list[dict[str, Any]]:
    rows = (await session.execute(select(StaffRow).order_by(col(StaffRow.username)))).scalars().all()
    return [r.model_dump() for r in rows if any(viewer.can_act_in(a) for a in r.areas) or viewer.can_act_in("")]
