"""Published jobs whose validThrough has passed expire by themselves: a background
sweep gives `ExpireJob` for each, as the service itself, every few seconds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from doorstep_shared.commands import Context
from doorstep_shared.domain import Conflict
from doorstep_shared.runtime import Runtime
from doorstep_shared.uow import CommandResult, UnitOfWork, execute

from jobs.commands.postings import ExpireJob
from jobs.views.postings import expired_jobs

log = logging.getLogger("jobs.expiry")

ACTOR = "jobs:expiry-sweep"


async def expire_due_jobs(runtime: Runtime) -> int:
    """One sweep: each due job expires in its own transaction; returns how many expired."""
    now = runtime.now()
    async with runtime.db.session() as s:
        due = await expired_jobs(s, now)
    expired = 0
    for job_id in due:
        cmd = ExpireJob(job_id=job_id)

        async def run(uow: UnitOfWork, cmd: ExpireJob = cmd) -> CommandResult:
            return await runtime.handlers[ExpireJob](cmd, Context(uow=uow, actor=None, now=now, deps=runtime.deps))

        try:
            await execute(
                runtime.db,
                runtime.store,
                run,
                meta={"actor": ACTOR, "command": ExpireJob.__name__},
                after_commit=runtime.relay.notify,
            )
            expired += 1
        except Conflict:  # closed or filled meanwhile, or the read model lagged: nothing to expire
            continue
    return expired


def sweeping_every(seconds: float) -> Callable[[Runtime], Awaitable[None]]:
    """The background task: a sweep every `seconds`."""

    async def expiry_sweep(runtime: Runtime) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await expire_due_jobs(runtime)
            except Exception:  # database briefly unavailable: try again next round
                log.warning("expiry sweep failed", exc_info=True)

    return expiry_sweep
