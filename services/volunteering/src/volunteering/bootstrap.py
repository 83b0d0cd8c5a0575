"""Composition root of the volunteering service."""

from __future__ import annotations

from doorstep_contracts.directory import partner_projection
from doorstep_contracts.volunteering import TOPICS, registry
from doorstep_shared.domain import utcnow
from doorstep_shared.eventstore import EventStore
from doorstep_shared.partners import partner_key_resolver
from doorstep_shared.runtime import ServiceDefinition
from doorstep_shared.runtime import create_app as create_app_from_definition
from fastapi import FastAPI

from volunteering.api import routers
from volunteering.deps import build_deps
from volunteering.handlers import handlers
from volunteering.models import core, metadata, partners
from volunteering.projections import directory, own
from volunteering.reactions import build_reactions
from volunteering.settings import Settings

SNAPSHOT_EVERY = 50  # activities snapshot; a storm of sign-ups replays at most this many events


def build_definition(settings: Settings) -> ServiceDefinition:
    return ServiceDefinition(
        name="volunteering",
        title="Volunteering",
        description=(
            "Volunteer teams, activities with sign-up and waiting lists, verified hours, "
            "the points ledger and time bank, service record certificates."
        ),
        package="volunteering",
        metadata=metadata,
        core=core,
        registry=registry,
        routers=routers,
        projections=[own, directory, build_reactions(), partner_projection(partners)],
        own_projection=own.name,
        published=TOPICS,
        api_key_resolver=lambda rt: partner_key_resolver(rt.db, partners),
        snapshot_every=SNAPSHOT_EVERY,
        # one store for commands and reactions alike (its snapshots, its caches)
        store=EventStore(core, registry, snapshot_every=SNAPSHOT_EVERY),
        handlers=handlers,
        command_retries=settings.command_retries,
        dependencies=build_deps,
        clock=utcnow,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_app_from_definition(build_definition(settings), settings)
