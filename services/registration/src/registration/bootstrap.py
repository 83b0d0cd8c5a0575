"""Composition root of the registration service."""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta

from doorstep_contracts.registration import (
    PARTNER_EVENTS,
    RESIDENT_EVENTS,
    AreaCreated,
    StaffCreated,
    registry,
)
from doorstep_shared.auth import TokenIssuer, generate_keypair
from doorstep_shared.crypto import master_key_from_b64
from doorstep_shared.eventstore import EventStore
from doorstep_shared.partners import partner_key_resolver
from doorstep_shared.runtime import Runtime, ServiceDefinition
from doorstep_shared.runtime import create_app as create_app_from_definition
from doorstep_shared.uow import execute
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from registration import handlers
from registration.api import routers
from registration.models import Credential, core, metadata, partner_credentials
from registration.projections import DIRECTORY, directory, partners, reactions
from registration.security import PiiVault
from registration.settings import Settings

log = logging.getLogger("doorstep.registration")


async def load_secrets(runtime: Runtime) -> None:
    settings = runtime.settings
    assert isinstance(settings, Settings)
    master = master_key_from_b64(settings.secret("data_master_key", settings.data_master_key))
    hash_key = master_key_from_b64(settings.secret("id_hash_key", settings.id_hash_key))
    runtime.extras["vault"] = PiiVault(master, hash_key)
    runtime.extras["issuer"] = TokenIssuer(
        settings.private_key_path().read_bytes(),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl=timedelta(minutes=settings.token_ttl_minutes),
    )


async def seed_admin(runtime: Runtime) -> None:
    """The first city admin (user `admin`); embedded mode invents a password if none is set."""
    settings = runtime.settings
    assert isinstance(settings, Settings)
    async with runtime.db.session() as s:
        exists = (await s.execute(select(col(Credential.username)).where(col(Credential.username) == "admin"))).scalar()
    if exists:
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
    cmd = handlers.CreateStaff(username="admin", password=password, role="city_admin", areas=[])
    await execute(
        runtime.db,
        runtime.store,
        lambda uow: handlers.create_staff(uow, cmd, None),
        meta={"actor": "system", "command": "seed admin"},
        after_commit=runtime.relay.notify,
    )


def build_definition(settings: Settings) -> ServiceDefinition:
    store = EventStore(core, registry)
    return ServiceDefinition(
        name="registration",
        title="Registration",
        description="Areas, residents (personal data sealed per resident), partners and staff; issues tokens.",
        package="registration",
        metadata=metadata,
        core=core,
        registry=registry,
        routers=routers,
        projections=[directory, partners, reactions(store)],
        store=store,
        own_projection=DIRECTORY,
        published={
            "areas": [AreaCreated],
            "residents": RESIDENT_EVENTS,
            "partners": PARTNER_EVENTS,
            "staff": [StaffCreated],
        },
        api_key_resolver=lambda rt: partner_key_resolver(rt.db, partner_credentials),
        on_startup=[load_secrets, seed_admin],
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    if not settings.is_production and settings.jwt_private_key_file is None:
        generate_keypair(settings.var_dir / "keys")
    return create_app_from_definition(build_definition(settings), settings)
