"""Registration's command handlers: authorise, load, decide, record.

Each runs inside one unit of work; the write-side guard tables (ID claims, data
keys, credentials) change in that same transaction, so a failed command leaves
nothing half-written.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from doorstep_shared.auth import Principal, Role, hash_api_key, new_api_key
from doorstep_shared.domain import Conflict, Forbidden, InvalidInput, new_id
from doorstep_shared.uow import CommandResult, UnitOfWork
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from registration.domain.model import Area, Partner, Resident, Staff
from registration.domain.validators import (
    InvalidValue,
    parse_credit_code,
    parse_id_number,
    parse_mobile,
)
from registration.models import Credential, IdClaim
from registration.security import PiiVault, hash_password

SCOPE_ADMINS = (Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.STREET_ADMIN)
RESIDENT_WRITERS = (*SCOPE_ADMINS, Role.COMMUNITY_STAFF, Role.GRID_WORKER)


@contextmanager
def validating() -> Iterator[None]:
    """Turn a validator's InvalidValue into the domain's InvalidInput (422 with the field)."""
    try:
        yield
    except InvalidValue as exc:
        raise InvalidInput(exc.detail, field=exc.field) from exc


# areas -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateArea:
    code: str
    name: str
    level: str
    parent_code: str | None


async def create_area(uow: UnitOfWork, cmd: CreateArea, actor: Principal) -> CommandResult:
    actor.require_role(*SCOPE_ADMINS)
    if cmd.level == "city":
        actor.require_role(Role.CITY_ADMIN)
    else:
        actor.require_area(cmd.parent_code or "", field="parent_code")
    if await uow.find(Area, cmd.code) is not None:
        raise Conflict(f"area {cmd.code} exists", field="code")
    parent = await uow.find(Area, cmd.parent_code) if cmd.parent_code else None
    if cmd.parent_code and parent is None:
        raise InvalidInput(f"parent area {cmd.parent_code} does not exist", field="parent_code")
    area = Area.create(cmd.code, cmd.name, cmd.level, parent)
    uow.add(area)
    return uow.result(area)


# residents -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterResident:
    name: str
    id_number: str
    mobile: str
    grid_code: str
    building: str
    unit: str
    hukou: str
    household_id: str | None = None
    tags: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    availability: list[dict[str, Any]] = field(default_factory=list)
    job_preferences: dict[str, Any] = field(default_factory=dict)
    employment_status: str = "unemployed"
    consent: dict[str, bool] = field(default_factory=dict)


_claims = IdClaim.__table__  # type: ignore[attr-defined]


@functools.cache
def _claim_statement(dialect: str) -> Any:
    """One statement claims an ID number or finds it taken (no row returned); built once per dialect."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(_claims).on_conflict_do_nothing(index_elements=[_claims.c.id_hash]).returning(_claims.c.id_hash)


async def register_resident(
    uow: UnitOfWork, vault: PiiVault, cmd: RegisterResident, actor: Principal, today: date
) -> CommandResult:
    actor.require_role(*RESIDENT_WRITERS)
    actor.require_area(cmd.grid_code, field="grid_code")
    with validating():
        ident = parse_id_number(cmd.id_number, today=today)
        mobile = parse_mobile(cmd.mobile)
    if not cmd.name.strip():
        raise InvalidInput("name must not be empty", field="name")
    grid = await uow.find(Area, cmd.grid_code)
    if grid is None or grid.level != "grid":
        raise InvalidInput(f"grid {cmd.grid_code} does not exist", field="grid_code")
    id_hash = vault.id_hash(ident.value)
    resident_id = new_id()
    # everything that needs no database first: on SQLite the first write below takes
    # the write lock that every command of the service waits for, until the commit
    data_key, wrapped_key = vault.new_key()
    pii = vault.seal(
        data_key,
        resident_id,
        {"name": cmd.name.strip(), "id_number": ident.value, "mobile": mobile},
    )
    consent = {"employment_matching": False, "share_with_partners": False, **cmd.consent}
    resident = Resident.register(
        resident_id,
        community_code=grid.parent_code or "",
        grid_code=cmd.grid_code,
        building=cmd.building,
        unit=cmd.unit,
        household_id=cmd.household_id,
        hukou=cmd.hukou,
        sex=ident.sex,
        birth_year=ident.birth_date.year,
        tags=cmd.tags,
        skills=cmd.skills,
        availability=cmd.availability,
        job_preferences=cmd.job_preferences,
        employment_status=cmd.employment_status,
        consent=consent,
        pii=pii,
        id_hash=id_hash,
    )
    session = uow.session
    claim = _claim_statement(session.get_bind().dialect.name)
    if (await session.execute(claim, {"id_hash": id_hash, "resident_id": resident_id})).first() is None:
        raise Conflict("this ID number already has an active registration", field="id_number")
    await vault.store_key(session, resident_id, wrapped_key)
    uow.add(resident)
    return uow.result(resident)


async def load_resident_in_scope(uow: UnitOfWork, resident_id: str, actor: Principal) -> Resident:
    actor.require_role(*RESIDENT_WRITERS)
    resident = await uow.get(Resident, resident_id, what="resident")
    actor.require_area(resident.grid_code, field="resident_id")
    return resident


async def update_profile(
    uow: UnitOfWork, vault: PiiVault, resident_id: str, changes: dict[str, Any], actor: Principal
) -> CommandResult:
    resident = await load_resident_in_scope(uow, resident_id, actor)
    personal: dict[str, str] = {}
    with validating():
        if changes.get("mobile") is not None:
            personal["mobile"] = parse_mobile(changes.pop("mobile"))
    if changes.get("name") is not None:
        name = changes.pop("name").strip()
        if not name:
            raise InvalidInput("name must not be empty", field="name")
        personal["name"] = name
    changes = {k: v for k, v in changes.items() if v is not None}
    if personal:
        key = await vault.key_for(uow.session, resident_id)
        if key is None:
            raise Conflict("the resident's data key is gone", field="resident_id")
        changes["pii"] = vault.seal(key, resident_id, personal)
    if not changes:
        raise InvalidInput("nothing to change", field="body")
    resident.update_profile(**changes)
    return uow.result(resident)


async def act_on_resident(
    uow: UnitOfWork, resident_id: str, actor: Principal, action: Callable[[Resident], Any]
) -> CommandResult:
    resident = await load_resident_in_scope(uow, resident_id, actor)
    action(resident)
    return uow.result(resident)


async def transfer_resident(
    uow: UnitOfWork,
    resident_id: str,
    community_code: str,
    grid_code: str,
    building: str,
    unit: str,
    actor: Principal,
) -> CommandResult:
    resident = await load_resident_in_scope(uow, resident_id, actor)
    actor.require_area(grid_code, field="grid_code")
    grid = await uow.find(Area, grid_code)
    if grid is None or grid.level != "grid" or grid.parent_code != community_code:
        raise InvalidInput(f"grid {grid_code} is not a grid of community {community_code}", field="grid_code")
    resident.transfer(community_code, grid_code, building, unit)
    return uow.result(resident)


async def move_within(
    uow: UnitOfWork, resident_id: str, grid_code: str, building: str, unit: str, actor: Principal
) -> CommandResult:
    resident = await load_resident_in_scope(uow, resident_id, actor)
    grid = await uow.find(Area, grid_code)
    if grid is None or grid.level != "grid":
        raise InvalidInput(f"grid {grid_code} does not exist", field="grid_code")
    resident.move_within_community(grid_code, building, unit)
    return uow.result(resident)


async def move_out(uow: UnitOfWork, resident_id: str, reason: str, actor: Principal) -> CommandResult:
    resident = await load_resident_in_scope(uow, resident_id, actor)
    resident.move_out(reason)
    await uow.session.execute(delete(IdClaim).where(col(IdClaim.resident_id) == resident_id))
    return uow.result(resident)


async def erase_resident(uow: UnitOfWork, vault: PiiVault, resident_id: str, actor: Principal) -> CommandResult:
    if actor.role == Role.GRID_WORKER:
        raise Forbidden("erasure is decided by community staff or an area admin")
    resident = await load_resident_in_scope(uow, resident_id, actor)
    resident.erase()
    await vault.destroy_key(uow.session, resident_id)
    await uow.session.execute(delete(IdClaim).where(col(IdClaim.resident_id) == resident_id))
    return uow.result(resident)


# reactions to other services' facts (no actor: the platform itself) ------------------------


async def record_hire(uow: UnitOfWork, resident_id: str, job_id: str) -> None:
    resident = await uow.find(Resident, resident_id)
    if resident is not None and resident.status == Resident.ACTIVE:
        resident.change_employment_status("employed", reason="hired through Doorstep", job_id=job_id)


async def record_verified_skill(uow: UnitOfWork, resident_id: str, skill: str, certificate_no: str | None) -> None:
    resident = await uow.find(Resident, resident_id)
    if resident is not None:
        resident.add_verified_skill(skill, source="training", certificate_no=certificate_no)


# partners --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterPartner:
    name: str
    kind: str
    credit_code: str
    area_code: str


async def register_partner(uow: UnitOfWork, cmd: RegisterPartner, actor: Principal) -> CommandResult:
    actor.require_role(*SCOPE_ADMINS, Role.COMMUNITY_STAFF)
    actor.require_area(cmd.area_code)
    with validating():
        code = parse_credit_code(cmd.credit_code)
    if await uow.find(Area, cmd.area_code) is None:
        raise InvalidInput(f"area {cmd.area_code} does not exist", field="area_code")
    partner = Partner.register(new_id(), cmd.name, cmd.kind, code, cmd.area_code)
    uow.add(partner)
    return uow.result(partner)


async def partner_in_scope(uow: UnitOfWork, partner_id: str, actor: Principal) -> Partner:
    actor.require_role(*SCOPE_ADMINS, Role.COMMUNITY_STAFF)
    partner = await uow.get(Partner, partner_id, what="partner")
    actor.require_area(partner.area_code)
    return partner


async def approve_partner(uow: UnitOfWork, partner_id: str, actor: Principal) -> CommandResult:
    partner = await partner_in_scope(uow, partner_id, actor)
    key = new_api_key(partner_id)
    partner.approve(hash_api_key(key))
    return uow.result(partner, api_key=key)


async def rotate_partner_key(uow: UnitOfWork, partner_id: str, actor: Principal) -> CommandResult:
    partner = await partner_in_scope(uow, partner_id, actor)
    key = new_api_key(partner_id)
    partner.rotate_key(hash_api_key(key))
    return uow.result(partner, api_key=key)


async def suspend_partner(uow: UnitOfWork, partner_id: str, reason: str, actor: Principal) -> CommandResult:
    partner = await partner_in_scope(uow, partner_id, actor)
    partner.suspend(reason)
    return uow.result(partner)


# staff -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateStaff:
    username: str
    password: str
    role: str
    areas: list[str]


async def create_staff(uow: UnitOfWork, cmd: CreateStaff, actor: Principal | None) -> CommandResult:
    """Create staff; `actor` None only when the platform seeds its first city admin."""
    if actor is not None:
        actor.require_role(*SCOPE_ADMINS, Role.COMMUNITY_STAFF)
        if cmd.role == "city_admin":
            actor.require_role(Role.CITY_ADMIN)
        for i, code in enumerate(cmd.areas):
            actor.require_area(code, field=f"areas.{i}")
        if actor.role == Role.COMMUNITY_STAFF and cmd.role not in ("grid_worker", "team_leader"):
            raise Forbidden("community staff create grid workers and team leaders only", field="role")
        for i, code in enumerate(cmd.areas):
            if await uow.find(Area, code) is None:
                raise InvalidInput(f"area {code} does not exist", field=f"areas.{i}")
    if len(cmd.password) < 10:
        raise InvalidInput("password must be at least 10 characters", field="password")
    taken = (
        await uow.session.execute(select(col(Credential.username)).where(col(Credential.username) == cmd.username))
    ).scalar()
    if taken:
        raise Conflict(f"username {cmd.username} is taken", field="username")
    staff = Staff.create(new_id(), cmd.username, cmd.role, cmd.areas)
    uow.add(staff)
    uow.session.add(
        Credential(
            username=staff.username,
            staff_id=staff.id,
            password_hash=hash_password(cmd.password),
            role=staff.role,
            areas=staff.areas,
        )
    )
    return uow.result(staff)
