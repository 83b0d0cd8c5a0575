"""Operations on a running service's projections: their status, and rebuilding one (city admins)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from doorstep_shared.auth import CurrentPrincipal, Role
from doorstep_shared.domain import Conflict, NotFound
from doorstep_shared.messaging import make_broker
from doorstep_shared.rebuild import Rebuild, RebuildRefused
from doorstep_shared.runtime import RuntimeDep

log = logging.getLogger("doorstep.admin")


class RebuildProgress(BaseModel):
    projection: str
    source: str = Field(description="event log, Kafka, or event log and Kafka")
    state: str = Field(description="checking, replaying, swapping, done, refused, failed")
    events: int
    total: int
    seconds: float
    events_per_s: float
    error: str | None


class ProjectionStatus(BaseModel):
    name: str
    topics: list[str]
    generation: int
    group_id: str
    runs_in_this_process: bool
    consuming: bool
    dead_letters: int
    offsets: dict[str, int] = Field(description="applied offset per `topic[partition]`")
    rebuild: RebuildProgress | None


def admin_router() -> APIRouter:
    """Operations on a running service's projections (city admins only)."""
    router = APIRouter(prefix="/admin/projections", tags=["operations"])

    @router.get("", summary="Projections: generation, consumer group, offsets, dead letters")
    async def status(principal: CurrentPrincipal, runtime: RuntimeDep) -> list[ProjectionStatus]:
        principal.require_role(Role.CITY_ADMIN)
        rebuilds = runtime.rebuilds
        out: list[ProjectionStatus] = []
        for runner in runtime.runners.values():
            offsets = await runner.tracked_offsets()
            out.append(
                ProjectionStatus.model_validate(
                    {
                        "name": runner.name,
                        "topics": runner.topics,
                        "generation": runner.generation,
                        "group_id": runner.group_id(),
                        "runs_in_this_process": runtime.settings.runs_worker_tasks,
                        "consuming": runner.consuming,
                        "dead_letters": runner.dead_letters,
                        "offsets": {f"{t}[{p}]": o for (t, p), o in sorted(offsets.items())},
                        "rebuild": rebuilds[runner.name][0].progress.as_dict() if runner.name in rebuilds else None,
                    }
                )
            )
        return out

    @router.post(
        "/{name}/rebuild",
        status_code=202,
        response_model=RebuildProgress,
        summary="Rebuild a read model beside the live one and swap it in",
        description=(
            "Own topics are replayed from the service's event log, other services' topics from Kafka "
            "once it is checked to hold their whole history (409 otherwise, nothing changed). Queries "
            "keep answering from the old read model until the swap. `wait=true` answers when done."
        ),
    )
    async def rebuild(
        name: str, principal: CurrentPrincipal, runtime: RuntimeDep, wait: bool = False
    ) -> dict[str, Any] | JSONResponse:
        principal.require_role(Role.CITY_ADMIN)
        runner = runtime.runners.get(name)
        if runner is None:
            raise NotFound(f"no projection {name}", field="name")
        if not runtime.settings.runs_worker_tasks:
            # a consumer started here would race the worker's, which keeps applying
            raise Conflict(
                f"projection {name} runs in the service's worker process "
                f"(port {runtime.settings.worker_listen_port}); rebuild it there",
                field="name",
            )
        jobs = runtime.rebuilds
        if name in jobs and not jobs[name][1].done():
            raise Conflict(f"projection {name} is being rebuilt", field="name")
        job = Rebuild(
            runner,
            runtime.store,
            bootstrap=runtime.settings.kafka_bootstrap_servers,
            broker_factory=lambda: make_broker(runtime.settings, client_suffix="-rebuild"),
            partitions=runtime.settings.kafka_topic_partitions,
        )
        await job.check()  # refuses (409) before anything is touched

        async def stop_live() -> None:
            runtime._runners_started.discard(name)
            await runner.stop()

        async def start_live() -> None:
            runtime._spawn(runtime._start_runner(name), f"projection-{name}")

        task = asyncio.ensure_future(job.run(stop_live=stop_live, start_live=start_live))
        task.add_done_callback(_log_rebuild)
        runtime._tasks.append(task)  # cancelled when the service stops
        jobs[name] = (job, task)
        if wait:
            with contextlib.suppress(Exception):  # the progress says what went wrong
                await asyncio.shield(task)
            if job.progress.state == "refused":
                raise RebuildRefused(job.progress.error or "refused", field="name")
            return JSONResponse(job.progress.as_dict(), status_code=200 if job.progress.state == "done" else 500)
        return job.progress.as_dict()

    return router


def _log_rebuild(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("rebuild did not complete: %s", task.exception())
