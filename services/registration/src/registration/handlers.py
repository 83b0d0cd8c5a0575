"""Registration's command handlers: authorise, load, decide, record.

Each runs inside one unit of work (`ctx.uow`); the write-side guard tables (ID
claims, data keys, credentials) change in that same transaction, so a failed
command leaves nothing half-written. Who may act is `authz`'s to say; the
rules of the records themselves are the aggregates'.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from doorstep_shared.auth import Principal, hash_api_key, new_api_key
from doorstep_shared.commands import Context, HandlerRegistry
from doorstep_shared.domain import Conflict, InvalidInput, new_id
from doorstep_shared.uow import CommandResult, UnitOfWork
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from registration import authz
from registration.commands import (
    ApprovePartner,
    ChangeConsent,
    ChangeEmploymentStatus,
    CreateArea,
    EraseResident,
    MoveOut,
    MoveWithinCommunity,
    RecordHire,
    RecordVerifiedSkill,
    RegisterPartner,
    RegisterResident,
    RotatePartnerKey,
    SuspendPartner,
    TransferResident,
    UpdateAvailability,
    UpdateProfile,
    UpdateSkills,
    UpdateTags,
)
from registration.deps import RegistrationDeps
from registration.domain.enums import AreaLevel, EmploymentStatus, ResidentStatus
from registration.domain.model import Area, Partner, Resident
from registration.domain.validators import InvalidValue, parse_credit_code, parse_id_number, parse_mobile
from registration.models import IdClaim

handlers = HandlerRegistry[RegistrationDeps]()


@contextmanager
def validating() -> Iterator[None]:
    """Turn a validator's InvalidValue into the domain's InvalidInput (422 with the field)."""
    try:
        yield
    except InvalidValue as exc:
        raise InvalidInput(exc.detail, field=exc.field) from exc


# areas ---------------------------------------------------------------------------------------


@handlers.register
async def create_area(cmd: CreateArea, ctx: Context[RegistrationDeps]) -> CommandResult:
    authz.check_area_creation(ctx.user, cmd.level, cmd.parent_code)
    uow = ctx.uow
    if await uow.find(Area, cmd.code) is not None:
        raise Conflict(f"area {cmd.code} exists", field="code")
    parent = await uow.find(Area, cmd.parent_code) if cmd.parent_code else None
    if cmd.parent_code and parent is None:
        raise InvalidInput(f"parent area {cmd.parent_code} does not exist", field="parent_code")
    area = Area.create(cmd.code, cmd.name, cmd.level, parent)
    uow.add(area)
    return uow.result(area)


async def grid(uow: UnitOfWork, grid_code: str) -> Area | None:
    """The grid of that code (None if there is none, or the area is not a grid)."""
    area = await uow.find(Area, grid_code)
    return area if area is not None and area.level == AreaLevel.GRID else None


# residents -----------------------------------------------------------------------------------

_claims = IdClaim.__table__  # type: ignore[attr-defined]


@functools.cache
def _claim_statement(dialect: str) -> Any:
    """One statement claims an ID number or finds it taken (no row returned); built once per dialect."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(_claims).on_conflict_do_nothing(index_elements=[_claims.c.id_hash]).returning(_claims.c.id_hash)


async def _release_claim(uow: UnitOfWork, resident_id: str) -> None:
    """The resident's ID number may register again."""
    await uow.session.execute(delete(IdClaim).where(col(IdClaim.resident_id) == resident_id))


@handlers.register
async def register_resident(cmd: RegisterResident, ctx: Context[RegistrationDeps]) -> CommandResult:
    actor, uow, vault = ctx.user, ctx.uow, ctx.deps.vault
    authz.check_resident_writer(actor)
    authz.check_resident_in_scope(actor, cmd.grid_code, field="grid_code")
    with validating():
        ident = parse_id_number(cmd.id_number, today=ctx.now.date())
        mobile = parse_mobile(cmd.mobile)
    if not cmd.name.strip():
        raise InvalidInput("name must not be empty", field="name")
    area = await grid(uow, cmd.grid_code)
    if area is None:
        raise InvalidInput(f"grid {cmd.grid_code} does not exist", field="grid_code")
    id_hash = vault.id_hash(ident.value)
    resident_id = new_id()
    # everything that needs no database first: on SQLite the first write below takes
    # the write lock that every command of the service waits for, until the commit
    data_key, wrapped_key = vault.new_key()
    pii = vault.seal(data_key, resident_id, {"name": cmd.name.strip(), "id_number": ident.value, "mobile": mobile})
    resident = Resident.register(
        resident_id,
        community_code=area.parent_code or "",
        grid_code=cmd.grid_code,
        building=cmd.building,
        unit=cmd.unit,
        household_id=cmd.household_id,
        hukou=cmd.hukou,
        sex=ident.sex,
        birth_year=ident.birth_date.year,
        tags=cmd.tags,
        skills=cmd.skills,
        availability=[w.model_dump() for w in cmd.availability],
        job_preferences=cmd.job_preferences.model_dump(),
        employment_status=cmd.employment_status,
        consent=cmd.consent.model_dump(),
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


async def resident_in_scope(uow: UnitOfWork, resident_id: str, actor: Principal) -> Resident:
    authz.check_resident_writer(actor)
    resident = await uow.get(Resident, resident_id, what="resident")
    authz.check_resident_in_scope(actor, resident.grid_code)
    return resident


@handlers.register
async def update_profile(cmd: UpdateProfile, ctx: Context[RegistrationDeps]) -> CommandResult:
    uow = ctx.uow
    resident = await resident_in_scope(uow, cmd.resident_id, ctx.user)
    personal: dict[str, str] = {}
    with validating():
        if cmd.mobile is not None:
            personal["mobile"] = parse_mobile(cmd.mobile)
    if cmd.name is not None:
        name = cmd.name.strip()
        if not name:
            raise InvalidInput("name must not be empty", field="name")
        personal["name"] = name
    pii: dict[str, str] | None = None
    if personal:
        key = await ctx.deps.vault.key_for(uow.session, cmd.resident_id)
        if key is None:
            raise Conflict("the resident's data key is gone", field="resident_id")
        pii = ctx.deps.vault.seal(key, cmd.resident_id, personal)
    preferences = cmd.job_preferences.model_dump() if cmd.job_preferences is not None else None
    fields = (cmd.building, cmd.unit, cmd.household_id, cmd.hukou, preferences, pii)
    if all(value is None for value in fields):
        raise InvalidInput("nothing to change", field="body")
    resident.update_profile(
        building=cmd.building,
        unit=cmd.unit,
        household_id=cmd.household_id,
        hukou=cmd.hukou,
        job_preferences=preferences,
        pii=pii,
    )
    return uow.result(resident)


@handlers.register
async def update_skills(cmd: UpdateSkills, ctx: Context[RegistrationDeps]) -> CommandResult:
    resident = await resident_in_scope(ctx.uow, cmd.resident_id, ctx.user)
    resident.update_skills(cmd.skills)
    return ctx.uow.result(resident)


@handlers.register
async def update_availability(cmd: UpdateAvailability, ctx: Context[RegistrationDeps]) -> CommandResult:
    resident = await resident_in_scope(ctx.uow, cmd.resident_id, ctx.user)
    resident.update_availability([w.model_dump() for w in cmd.availability])
    return ctx.uow.result(resident)


@handlers.register
async def update_tags(cmd: UpdateTags, ctx: Context[RegistrationDeps]) -> CommandResult:
    resident = await resident_in_scope(ctx.uow, cmd.resident_id, ctx.user)
    resident.update_tags(cmd.tags)
    return ctx.uow.result(resident)


@handlers.register
async def change_consent(cmd: ChangeConsent, ctx: Context[RegistrationDeps]) -> CommandResult:
    resident = await resident_in_scope(ctx.uow, cmd.resident_id, ctx.user)
    resident.change_consent(cmd.model_dump(exclude_none=True))
    return ctx.uow.result(resident)


@handlers.register
async def change_employment_status(cmd: ChangeEmploymentStatus, ctx: Context[RegistrationDeps]) -> CommandResult:
    resident = await resident_in_scope(ctx.uow, cmd.resident_id, ctx.user)
    resident.change_employment_status(cmd.employment_status, cmd.reason)
    return ctx.uow.result(resident)


@handlers.register
async def move_within_community(cmd: MoveWithinCommunity, ctx: Context[RegistrationDeps]) -> CommandResult:
    resident = await resident_in_scope(ctx.uow, cmd.resident_id, ctx.user)
    area = await grid(ctx.uow, cmd.grid_code)
    if area is None:
        raise InvalidInput(f"grid {cmd.grid_code} does not exist", field="grid_code")
    if area.parent_code != resident.community_code:  # the tree decides, not how the codes begin
        raise InvalidInput("use a transfer to move to another community", field="grid_code")
    resident.move_within_community(cmd.grid_code, cmd.building, cmd.unit)
    return ctx.uow.result(resident)


@handlers.register
async def transfer_resident(cmd: TransferResident, ctx: Context[RegistrationDeps]) -> CommandResult:
    actor = ctx.user
    resident = await resident_in_scope(ctx.uow, cmd.resident_id, actor)
    authz.check_resident_in_scope(actor, cmd.grid_code, field="grid_code")
    area = await grid(ctx.uow, cmd.grid_code)
    if area is None or area.parent_code != cmd.community_code:
        raise InvalidInput(f"grid {cmd.grid_code} is not a grid of community {cmd.community_code}", field="grid_code")
    resident.transfer(cmd.community_code, cmd.grid_code, cmd.building, cmd.unit)
    return ctx.uow.result(resident)


@handlers.register
async def move_out(cmd: MoveOut, ctx: Context[RegistrationDeps]) -> CommandResult:
    resident = await resident_in_scope(ctx.uow, cmd.resident_id, ctx.user)
    resident.move_out(cmd.reason)
    await _release_claim(ctx.uow, cmd.resident_id)
    return ctx.uow.result(resident)


@handlers.register
async def erase_resident(cmd: EraseResident, ctx: Context[RegistrationDeps]) -> CommandResult:
    actor = ctx.user
    authz.check_erasure(actor)
    resident = await resident_in_scope(ctx.uow, cmd.resident_id, actor)
    resident.erase()
    await ctx.deps.vault.destroy_key(ctx.uow.session, cmd.resident_id)
    await _release_claim(ctx.uow, cmd.resident_id)
    return ctx.uow.result(resident)


# residents: other services' facts (given by the service itself, no actor) -------------------


def _unchanged(resident_id: str) -> CommandResult:
    return CommandResult(id=resident_id, version=0, position=0)


@handlers.register
async def record_hire(cmd: RecordHire, ctx: Context[RegistrationDeps]) -> CommandResult:
    """A hire through Doorstep employs an active resident (one who left is not followed)."""
    resident = await ctx.uow.find(Resident, cmd.resident_id)
    if resident is None or resident.status != ResidentStatus.ACTIVE:
        return _unchanged(cmd.resident_id)
    resident.change_employment_status(EmploymentStatus.EMPLOYED, reason="hired through Doorstep", job_id=cmd.job_id)
    return ctx.uow.result(resident)


@handlers.register
async def record_verified_skill(cmd: RecordVerifiedSkill, ctx: Context[RegistrationDeps]) -> CommandResult:
    """A completed course verifies its skill (once; not for a resident who left)."""
    resident = await ctx.uow.find(Resident, cmd.resident_id)
    if resident is None:
        return _unchanged(cmd.resident_id)
    resident.add_verified_skill(cmd.skill, source="training", certificate_no=cmd.certificate_no)
    return ctx.uow.result(resident)


# partners ------------------------------------------------------------------------------------


@handlers.register
async def register_partner(cmd: RegisterPartner, ctx: Context[RegistrationDeps]) -> CommandResult:
    actor = ctx.user
    authz.check_partner_manager(actor)
    authz.check_partner_in_scope(actor, cmd.area_code)
    with validating():
        code = parse_credit_code(cmd.credit_code)
    if await ctx.uow.find(Area, cmd.area_code) is None:
        raise InvalidInput(f"area {cmd.area_code} does not exist", field="area_code")
    partner = Partner.register(new_id(), cmd.name, cmd.kind, code, cmd.area_code)
    ctx.uow.add(partner)
    return ctx.uow.result(partner)


async def partner_in_scope(uow: UnitOfWork, partner_id: str, actor: Principal) -> Partner:
    authz.check_partner_manager(actor)
    partner = await uow.get(Partner, partner_id, what="partner")
    authz.check_partner_in_scope(actor, partner.area_code)
    return partner


@handlers.register
async def approve_partner(cmd: ApprovePartner, ctx: Context[RegistrationDeps]) -> CommandResult:
    partner = await partner_in_scope(ctx.uow, cmd.partner_id, ctx.user)
    key = new_api_key(cmd.partner_id)
    partner.approve(hash_api_key(key))
    return ctx.uow.result(partner, api_key=key)


@handlers.register
async def rotate_partner_key(cmd: RotatePartnerKey, ctx: Context[RegistrationDeps]) -> CommandResult:
    partner = await partner_in_scope(ctx.uow, cmd.partner_id, ctx.user)
    key = new_api_key(cmd.partner_id)
    partner.rotate_key(hash_api_key(key))
    return ctx.uow.result(partner, api_key=key)


@handlers.register
async def suspend_partner(cmd: SuspendPartner, ctx: Context[RegistrationDeps]) -> CommandResult:
    partner = await partner_in_scope(ctx.uow, cmd.partner_id, ctx.user)
    partner.suspend(cmd.reason)
    return ctx.uow.result(partner)


# staff accounts register theirs on this registry
from registration import staff_handlers  # noqa: E402, F401
