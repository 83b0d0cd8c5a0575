"""Composition root of grid reports: settings → handlers, dependencies, projections, routers, sweep."""

from __future__ import annotations

from doorstep_contracts.grid_reports import TOPICS, registry
from doorstep_shared.domain import utcnow
from doorstep_shared.partners import partner_key_resolver
from doorstep_shared.runtime import ServiceDefinition
from doorstep_shared.runtime import create_app as create_app_from_definition
from fastapi import FastAPI

from grid_reports.api import cases_router, disputes_router, figures_router, visits_router
from grid_reports.deps import build_deps, policy_from
from grid_reports.escalation import escalation_hook
from grid_reports.handlers import handlers
from grid_reports.models import core, metadata, partner_credentials
from grid_reports.open311 import router as open311_router
from grid_reports.projections import OWN_PROJECTION, build_projections
from grid_reports.settings import Settings

__all__ = ["Settings", "build_definition", "create_app", "policy_from"]


def build_definition(settings: Settings) -> ServiceDefinition:
    return ServiceDefinition(
        name="grid_reports",
        title="Grid reports",
        description=(
            "Cases from report to evaluation with deadlines and escalation up the area tree, "
            "mediation of disputes, door-knocking visits with cadences, incentives for "
            "external reporters, and Open311 GeoReport v2 for civic apps."
        ),
        package="grid_reports",
        metadata=metadata,
        core=core,
        registry=registry,
        routers=[cases_router, figures_router, visits_router, disputes_router, open311_router],
        projections=build_projections(policy_from(settings)),
        own_projection=OWN_PROJECTION,
        published=TOPICS,
        api_key_resolver=lambda rt: partner_key_resolver(rt.db, partner_credentials),
        handlers=handlers,
        dependencies=build_deps,
        clock=utcnow,
        background=[
            escalation_hook(interval=settings.escalation_interval_seconds, batch_size=settings.escalation_batch_size)
        ],
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_app_from_definition(build_definition(settings), settings)
