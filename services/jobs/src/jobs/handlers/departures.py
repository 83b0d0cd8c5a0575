"""A resident registration says is gone (moved out, or erased): her open applications
are withdrawn and her enrolments cancelled, their seats passed down the waiting lists."""

from __future__ import annotations

import logging

from doorstep_contracts.jobs import ApplicationSubmitted, EnrolmentRequested
from doorstep_shared.uow import CommandResult

from jobs.commands.residents import ReleaseResident
from jobs.domain.applications import Application
from jobs.domain.training import Enrolment
from jobs.handlers.registry import Ctx, handlers
from jobs.handlers.training import release
from jobs.views.residents import streams_of_resident

log = logging.getLogger("jobs.departures")


@handlers.register
async def release_resident(cmd: ReleaseResident, ctx: Ctx) -> CommandResult:
    """The resident's streams are found in the event log itself (not a read model
    that may lag); a second delivery finds nothing left open and changes nothing."""
    uow, changed = ctx.uow, 0
    for app_id in await streams_of_resident(uow.session, ApplicationSubmitted, cmd.resident_id):
        app = await uow.get(Application, app_id, what="application")
        if app.is_open:
            app.withdraw(cmd.reason)
            changed += 1
    for enrolment_id in await streams_of_resident(uow.session, EnrolmentRequested, cmd.resident_id):
        enrolment = await uow.get(Enrolment, enrolment_id, what="enrolment")
        if enrolment.is_active:
            await release(uow, enrolment, cmd.reason)
            changed += 1
    log.info("resident left: %s streams changed", changed)
    return CommandResult(id=cmd.resident_id, version=0, position=0, extra={"changed": changed})
