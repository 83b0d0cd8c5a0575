"""Fixtures for the real broker and the real databases.

Broker, in this order: `KAFKA_BOOTSTRAP_SERVERS`; a testcontainers Kafka if a
Docker engine answers; else the embedded broker. Databases: SQLite always, and
PostgreSQL too when `DATABASE_URL` points at one (each test gets a fresh
database there, dropped afterwards).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from doorstep_shared.auth import generate_keypair
from doorstep_shared.embedded import EmbeddedKafka
from doorstep_shared.settings import to_async_url

PG_URL = os.environ.get("DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL.startswith(("postgres://", "postgresql")) else [])


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield configured
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
        return
    with EmbeddedKafka() as broker:
        yield broker.bootstrap_servers


@pytest.fixture
def topic_prefix() -> str:
    """Topics and consumer groups of one test never meet another test's."""
    return f"t{uuid.uuid4().hex[:10]}."


async def _create_pg_database() -> tuple[str, str]:
    import asyncpg

    name = f"doorstep_t_{uuid.uuid4().hex[:12]}"
    admin = to_async_url(PG_URL).replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = admin.rsplit("/", 1)[0]
    return name, to_async_url(f"{base}/{name}")


async def _drop_pg_database(name: str) -> None:
    import asyncpg

    admin = to_async_url(PG_URL).replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of each backend in turn (the abstract-suite pattern)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/test.db"
        return
    name, url = await _create_pg_database()
    try:
        yield url
    finally:
        await _drop_pg_database(name)


@pytest.fixture(scope="session")
def jwt_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return generate_keypair(tmp_path_factory.mktemp("keys"))
