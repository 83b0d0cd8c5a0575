"""Staff accounts: created, disabled and enabled, their passwords changed.

Each handler records the staff event and changes the account's credential in
the same transaction, so signing in follows at once. Passwords are hashed on
the password pool, off the event loop; no event carries a password or a hash.
"""

from __future__ import annotations

from doorstep_shared.commands import Context
from doorstep_shared.domain import Conflict, Forbidden, InvalidInput, new_id
from doorstep_shared.uow import CommandResult, UnitOfWork

from registration import authz
from registration.commands import ChangeOwnPassword, CreateStaff, DisableStaff, EnableStaff, ResetStaffPassword
from registration.credentials import add_credential, credential_of, set_disabled, set_password_hash, username_taken
from registration.deps import RegistrationDeps
from registration.domain.model import Area, Staff
from registration.handlers import handlers


@handlers.register
async def create_staff(cmd: CreateStaff, ctx: Context[RegistrationDeps]) -> CommandResult:
    """Create a staff account; given by the service itself (no actor) only for the first city admin."""
    uow = ctx.uow
    if ctx.actor is not None:
        authz.check_staff_creation(ctx.actor, cmd.role, cmd.areas)
        for i, code in enumerate(cmd.areas):
            if await uow.find(Area, code) is None:
                raise InvalidInput(f"area {code} does not exist", field=f"areas.{i}")
    if await username_taken(uow.session, cmd.username):
        raise Conflict(f"username {cmd.username} is taken", field="username")
    staff = Staff.create(new_id(), cmd.username, cmd.role, cmd.areas)
    uow.add(staff)
    add_credential(uow.session, staff, await ctx.deps.passwords.hash(cmd.password))
    return uow.result(staff)


async def managed_staff(uow: UnitOfWork, staff_id: str, ctx: Context[RegistrationDeps]) -> Staff:
    actor = ctx.user
    actor.require_role(*authz.STAFF_MANAGERS)
    staff = await uow.get(Staff, staff_id, what="staff member")
    authz.check_staff_manager(actor, staff.role, staff.areas)
    return staff


@handlers.register
async def disable_staff(cmd: DisableStaff, ctx: Context[RegistrationDeps]) -> CommandResult:
    staff = await managed_staff(ctx.uow, cmd.staff_id, ctx)
    staff.disable(cmd.reason)
    await set_disabled(ctx.uow.session, staff.id, True)
    return ctx.uow.result(staff)


@handlers.register
async def enable_staff(cmd: EnableStaff, ctx: Context[RegistrationDeps]) -> CommandResult:
    staff = await managed_staff(ctx.uow, cmd.staff_id, ctx)
    staff.enable()
    await set_disabled(ctx.uow.session, staff.id, False)
    return ctx.uow.result(staff)


@handlers.register
async def reset_staff_password(cmd: ResetStaffPassword, ctx: Context[RegistrationDeps]) -> CommandResult:
    staff = await managed_staff(ctx.uow, cmd.staff_id, ctx)
    staff.password_changed(by_admin=True)
    await set_password_hash(ctx.uow.session, staff.id, await ctx.deps.passwords.hash(cmd.new_password))
    await ctx.deps.throttle.clear_username(ctx.uow.session, staff.username)
    return ctx.uow.result(staff)


@handlers.register
async def change_own_password(cmd: ChangeOwnPassword, ctx: Context[RegistrationDeps]) -> CommandResult:
    actor, uow, passwords = ctx.user, ctx.uow, ctx.deps.passwords
    cred = await credential_of(uow.session, actor.subject)
    if cred is None:
        raise Forbidden("only staff accounts have a password here")
    matches, _ = await passwords.verify(cmd.current_password, cred.password_hash)
    if not matches:
        raise Forbidden("the current password is wrong", field="current_password")
    staff = await uow.get(Staff, actor.subject, what="staff member")
    staff.password_changed(by_admin=False)
    await set_password_hash(uow.session, staff.id, await passwords.hash(cmd.new_password))
    return uow.result(staff)
