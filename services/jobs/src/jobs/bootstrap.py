"""Composition root of the jobs service.

The match index is made here, once per service definition: the projections feed it
(through an `IndexFeed`, after each commit) and the matching queries read it as
`deps.match_index`. Because queries read process memory, the service runs as one
process (API and projections together).
"""

from __future__ import annotations

import functools
import logging

from doorstep_contracts import jobs as contract
from doorstep_contracts.directory import partner_projection
from doorstep_shared.eventstore import EventStore
from doorstep_shared.partners import partner_key_resolver
from doorstep_shared.runtime import Runtime, ServiceDefinition
from doorstep_shared.runtime import create_app as create_app_from_definition
from fastapi import FastAPI

from jobs.api import ROUTERS
from jobs.deps import JobsDeps, build_deps
from jobs.domain.matching import MatchIndex
from jobs.expiry import sweeping_every
from jobs.handlers import handlers
from jobs.models import core, metadata, partner_credentials
from jobs.projections.index_feed import IndexFeed
from jobs.projections.read_model import read_model_projection
from jobs.projections.residents import residents_projection
from jobs.reactions import build_reactions
from jobs.settings import Settings

log = logging.getLogger("jobs")


def build_definition(settings: Settings) -> ServiceDefinition:
    feed = IndexFeed(MatchIndex())

    async def load_match_index(runtime: Runtime) -> None:
        """Load the match index before the projections start feeding it."""
        async with runtime.db.session() as s:
            await feed.load(s)
        deps: JobsDeps = runtime.deps
        index = deps.match_index
        log.info("match index: %d residents, %d open jobs", len(index.residents), len(index.jobs))

    return ServiceDefinition(
        name="jobs",
        title="Jobs",
        description="Doorstep employment: postings, applications, fairs, piecework, partner training, matching.",
        package="jobs",
        metadata=metadata,
        core=core,
        registry=contract.registry,
        routers=ROUTERS,
        projections=[
            read_model_projection(feed),
            residents_projection(feed),
            build_reactions(),
            partner_projection(partner_credentials),
        ],
        own_projection="read_model",
        store=EventStore(core, contract.registry),
        published=contract.TOPICS,
        handlers=handlers,
        dependencies=functools.partial(build_deps, match_index=feed.index),
        api_key_resolver=lambda rt: partner_key_resolver(rt.db, partner_credentials),
        on_startup=[load_match_index],
        background=[sweeping_every(settings.expiry_sweep_seconds)],
        splits_into_api_and_worker=False,  # matching reads the index the projections keep in memory
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_app_from_definition(build_definition(settings), settings)
