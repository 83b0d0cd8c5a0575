"""Published jobs whose validThrough has passed expire by themselves: a background
sweep gives `ExpireJob` for each, as the service itself, every few seconds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from doorstep_shared.domain import Conflict
from doorstep_shared.runtime import Runtime

from jobs.commands.postings import ExpireJob
from jobs.views.postings import expired_jobs

log = logging.getLogger("jobs.expiry")


async def expire_due_jobs(runtime: Runtime) -> int:
    """One sweep: each due job expires in its own transaction; returns how many expired."""
    async with runtime.db.session() as s:
        due = await expired_jobs(s, runtime.now())
    expired = 0
    for job_id in due:
        try:
            await runtime.run(ExpireJob(job_id=job_id), reason="expiry sweep")
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
