"""Composition root of grid reports: settings → policy, clock, projections, routers, sweep."""

from __future__ import annotations

from datetime import timedelta

from doorstep_contracts.grid_reports import CASE_EVENTS, DISPUTE_EVENTS, VISIT_EVENTS, registry
from doorstep_shared.domain import utcnow
from doorstep_shared.partners import partner_key_resolver
from doorstep_shared.runtime import Runtime, ServiceDefinition
from doorstep_shared.runtime import create_app as create_app_from_definition
from fastapi import FastAPI

from grid_reports.api import cases_router, disputes_router, queries_router, visits_router
from grid_reports.domain.rules import Policy
from grid_reports.escalation import Clock, escalation_hook
from grid_reports.models import core, metadata, partner_credentials
from grid_reports.open311 import router as open311_router
from grid_reports.projections import OWN_PROJECTION, build_projections
from grid_reports.settings import Settings

__all__ = ["Settings", "build_definition", "create_app", "policy_from"]


def policy_from(settings: Settings) -> Policy:
    return Policy(
        deadlines_hours=settings.deadlines_hours,
        feedback_window=timedelta(hours=settings.feedback_window_hours),
        incentive_points=settings.incentive_points,
        visit_cadence_days=settings.visit_cadence_days,
        max_photos=settings.max_photos,
        max_photo_url_length=settings.max_photo_url_length,
    )


def build_definition(settings: Settings, clock: Clock | None = None) -> ServiceDefinition:
    """Describe the service; `clock` replaces the wall clock (tests, demos, replays)."""
    policy = policy_from(settings)
    now = clock or utcnow

    async def provide(runtime: Runtime) -> None:
        runtime.extras["clock"] = now
        runtime.extras["policy"] = policy

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
        routers=[cases_router, queries_router, visits_router, disputes_router, open311_router],
        projections=build_projections(policy),
        own_projection=OWN_PROJECTION,
        published={"cases": CASE_EVENTS, "visits": VISIT_EVENTS, "disputes": DISPUTE_EVENTS},
        api_key_resolver=lambda rt: partner_key_resolver(rt.db, partner_credentials),
        on_startup=[provide],
        background=[
            escalation_hook(
                policy,
                now,
                interval=settings.escalation_interval_seconds,
                batch_size=settings.escalation_batch_size,
            )
        ],
    )


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_app_from_definition(build_definition(settings, clock), settings)
