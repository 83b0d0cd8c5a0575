"""Composition root of the jobs service."""

from __future__ import annotations

import asyncio
import functools
import logging

from doorstep_contracts.jobs import (
    APPLICATION_EVENTS,
    COURSE_EVENTS,
    ENROLMENT_EVENTS,
    FAIR_EVENTS,
    LEAD_EVENTS,
    PIECEWORK_EVENTS,
    POSTING_EVENTS,
    registry,
)
from doorstep_shared.domain import Conflict, utcnow
from doorstep_shared.eventstore import EventStore
from doorstep_shared.partners import partner_key_resolver, partner_projection
from doorstep_shared.runtime import Runtime, ServiceDefinition
from doorstep_shared.runtime import create_app as create_app_from_definition
from doorstep_shared.uow import execute
from fastapi import FastAPI

from jobs import handlers, views
from jobs.api import ROUTERS
from jobs.domain.matching import MatchIndex
from jobs.models import core, metadata, partner_credentials
from jobs.projections import (
    load_index,
    reactions_projection,
    read_model_projection,
    residents_projection,
)
from jobs.settings import Settings

log = logging.getLogger("jobs")


def build_definition(settings: Settings) -> ServiceDefinition:
    index = MatchIndex()
    store = EventStore(core, registry)

    async def start_index(runtime: Runtime) -> None:
        """Load the match index before the projections start feeding it."""
        async with runtime.db.session() as s:
            await load_index(index, s)
        runtime.extras["match_index"] = index
        log.info("match index: %d residents, %d open jobs", len(index.residents), len(index.jobs))

    async def expiry_sweep(runtime: Runtime) -> None:
        """Expire published jobs whose validThrough has passed, every few seconds."""
        while True:
            await asyncio.sleep(settings.expiry_sweep_seconds)
            try:
                await expire_due_jobs(runtime)
            except Exception:  # database briefly unavailable: try again next round
                log.warning("expiry sweep failed", exc_info=True)

    return ServiceDefinition(
        name="jobs",
        title="Jobs",
        description="Doorstep employment: postings, applications, fairs, piecework, partner training, matching.",
        package="jobs",
        metadata=metadata,
        core=core,
        registry=registry,
        routers=ROUTERS,
        projections=[
            read_model_projection(index),
            residents_projection(index),
            reactions_projection(store),
            partner_projection(partner_credentials),
        ],
        own_projection="read_model",
        store=store,
        published={
            "postings": POSTING_EVENTS,
            "applications": APPLICATION_EVENTS,
            "fairs": FAIR_EVENTS,
            "piecework": PIECEWORK_EVENTS,
            "courses": COURSE_EVENTS,
            "enrolments": ENROLMENT_EVENTS,
            "leads": LEAD_EVENTS,
        },
        api_key_resolver=lambda rt: partner_key_resolver(rt.db, partner_credentials),
        on_startup=[start_index],
        background=[expiry_sweep],
        splits_into_api_and_worker=False,  # matching reads the index the projections keep in memory
    )


async def expire_due_jobs(runtime: Runtime) -> int:
    """One sweep: each due job expires in its own transaction; returns how many expired."""
    now = utcnow()
    async with runtime.db.session() as s:
        due = await views.expired_jobs(s, now)
    expired = 0
    for job_id in due:
        try:
            await execute(
                runtime.db,
                runtime.store,
                functools.partial(handlers.expire_job, job_id=job_id, now=now),
                meta={"actor": "jobs:expiry-sweep", "command": "expire"},
                after_commit=runtime.relay.notify,
            )
            expired += 1
        except Conflict:  # closed or filled meanwhile, or the read model lagged: nothing to expire
            continue
    return expired


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_app_from_definition(build_definition(settings), settings)
