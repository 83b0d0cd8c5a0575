"""Composition root of the registration service."""

from __future__ import annotations

import logging
import os
import secrets

from doorstep_contracts import registration as contract
from doorstep_shared.auth import generate_keypair
from doorstep_shared.eventstore import EventStore
from doorstep_shared.partners import partner_key_resolver
from doorstep_shared.runtime import Runtime, ServiceDefinition
from doorstep_shared.runtime import create_app as create_app_from_definition
from fastapi import FastAPI

from registration.api import routers
from registration.area_codes import report_irregular_areas
from registration.commands import CreateStaff
from registration.credentials import username_taken
from registration.deps import build_deps
from registration.domain.enums import StaffRole
from registration.handlers import handlers
from registration.models import core, metadata, partner_credentials
from registration.projections import DIRECTORY, directory, partners
from registration.reactions import build_reactions
from registration.settings import Settings

log = logging.getLogger("doorstep.registration")


async def seed_admin(runtime: Runtime) -> None:
    """The first city admin (user `admin`); embedded mode invents a password if none is set."""
    settings = runtime.settings
    assert isinstance(settings, Settings)
    async with runtime.db.session() as s:
        if await username_taken(s, "admin"):
            return
    password = settings.admin_password
    if not password:
        password = secrets.token_urlsafe(12)
        note = settings.var_dir / "admin-password.txt"
        note.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(note, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password + "\n")
        log.warning("generated the admin password; it is in %s", note)
    cmd = CreateStaff(username="admin", password=password, role=StaffRole.CITY_ADMIN, areas=[])

    await runtime.run(cmd, reason="seed admin")


def build_definition(settings: Settings) -> ServiceDefinition:
    store = EventStore(core, contract.registry)
    return ServiceDefinition(
        name=contract.SERVICE,
        title="Registration",
        description="Areas, residents (personal data sealed per resident), partners and staff; issues tokens.",
        package="registration",
        metadata=metadata,
        core=core,
        registry=contract.registry,
        routers=routers,
        projections=[directory, partners, build_reactions()],
        store=store,
        own_projection=DIRECTORY,
        published=contract.TOPICS,
        api_key_resolver=lambda rt: partner_key_resolver(rt.db, partner_credentials),
        on_startup=[seed_admin, report_irregular_areas],
        handlers=handlers,
        dependencies=build_deps,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    if not settings.is_production and settings.jwt_private_key_file is None:
        generate_keypair(settings.var_dir / "keys")
    return create_app_from_definition(build_definition(settings), settings)
