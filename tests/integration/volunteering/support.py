"""Running the volunteering service in tests, and feeding it other services' events."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives import serialization
from doorstep_shared.auth import Principal, Role, TokenIssuer
from doorstep_shared.eventstore import StoredEvent
from doorstep_shared.messaging import TopicEnsurer, encode_data, event_headers
from doorstep_shared.runtime import Runtime
from sqlalchemy import select
from volunteering.bootstrap import create_app
from volunteering.models import metadata
from volunteering.settings import Settings

from tests.conftest import PG_URL, _create_pg_database, _drop_pg_database
from tests.helpers import running_app

COMMUNITY = "330102001"
OTHER_COMMUNITY = "330102002"
GRID = "330102001001"
TOPICS = [
    "volunteering.teams",
    "volunteering.activities",
    "volunteering.ledger",
    "registration.residents",
    "registration.staff",
    "registration.partners",
    "jobs.applications",
    "jobs.enrolments",
    "jobs.piecework",
    "grid_reports.cases",
]


class Clock:
    """The service's notion of now, moved by the tests."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclasses.dataclass
class Service:
    client: httpx.AsyncClient
    runtime: Runtime
    clock: Clock
    feed: Feed
    jwt_keys: tuple[Path, Path]

    tokens: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)

    @functools.cached_property
    def issuer(self) -> TokenIssuer:
        """Signs like registration; the key is parsed once (parsing an RSA key is slow)."""
        key = serialization.load_pem_private_key(self.jwt_keys[0].read_bytes(), password=None)
        return TokenIssuer(
            key,  # type: ignore[arg-type]  # PyJWT takes a loaded key as well as PEM bytes
            issuer="doorstep-registration",
            audience="doorstep",
            ttl=timedelta(hours=1),
        )

    def token(self, role: str, areas: list[str], subject: str, **extra: str) -> dict[str, str]:
        key = repr((role, areas, subject, sorted(extra.items())))
        if key not in self.tokens:
            principal = Principal(subject=subject, role=Role(role), areas=tuple(areas), **extra)  # type: ignore[arg-type]
            self.tokens[key] = {"Authorization": f"Bearer {self.issuer.issue(principal)}"}
        return self.tokens[key]

    def resident(self, resident_id: str) -> dict[str, str]:
        return self.token("resident", [COMMUNITY], resident_id, resident_id=resident_id)

    async def events(self, stream_id: str) -> list[StoredEvent]:
        async with self.runtime.db.session() as s:
            return await self.runtime.store.history(s, stream_id)

    async def read(self, path: str, headers: dict[str, str], after: int = 0, **params: Any) -> Any:
        if after:
            params["after"] = after
        response = await self.client.get(path, headers=headers, params=params)
        assert response.status_code == 200, response.text
        assert response.headers.get("X-Consistency", "current") == "current"
        return response.json()


class Feed:
    """Publishes events the way another service's relay would (CloudEvents headers)."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
        self.sequences: dict[str, int] = {}
        self.position = 0

    async def publish(
        self,
        service: str,
        aggregate: str,
        event_type: str,
        subject: str,
        data: dict[str, Any],
        *,
        event_id: str | None = None,
        sequence: int | None = None,
        time: datetime | None = None,
    ) -> StoredEvent:
        key = f"{service}:{subject}"
        if sequence is None:
            sequence = self.sequences.get(key, 0) + 1
        self.sequences[key] = max(sequence, self.sequences.get(key, 0))
        self.position += 1
        stored = StoredEvent(
            position=self.position,
            event_id=event_id or str(uuid.uuid4()),
            stream_id=subject,
            stream_type=aggregate,
            version=sequence,
            event_type=event_type,
            schema_version=1,
            data=data,
            meta={"correlation_id": f"test-{self.position}"},
            recorded_at=time or datetime.now(UTC),
        )
        await self.resend(service, stored)
        return stored

    async def resend(self, service: str, stored: StoredEvent) -> None:
        """Deliver an already published event again (a redelivery)."""
        headers = event_headers(service, stored)
        await self.producer.send_and_wait(
            f"{self.prefix}{service}.{stored.stream_type}",
            encode_data(stored.data),
            key=stored.stream_id.encode(),
            headers=[(k, v.encode()) for k, v in headers.items()],
        )

    async def resident(self, resident_id: str, community: str = COMMUNITY, **extra: Any) -> None:
        data = {
            "resident_id": resident_id,
            "community_code": community,
            "grid_code": f"{community}001",
            "building": "3",
            "unit": "2-301",
            "household_id": None,
            "hukou": "non_local",
            "sex": "female",
            "birth_year": 1985,
            "tags": ["stay_at_home_parent"],
            "skills": ["childcare"],
            "availability": [],
            "job_preferences": {},
            "employment_status": "unemployed",
            "consent": {"employment_matching": True, "share_with_partners": False},
            "pii": {"name_enc": "v1:x", "id_number_enc": "v1:y", "mobile_enc": "v1:z"},
            "id_hash": uuid.uuid4().hex,
            **extra,
        }
        await self.publish("registration", "residents", "ResidentRegistered", resident_id, data)

    async def staff(self, staff_id: str, role: str, areas: list[str]) -> None:
        data = {"staff_id": staff_id, "username": staff_id, "role": role, "areas": areas}
        await self.publish("registration", "staff", "StaffCreated", staff_id, data)


@contextlib.asynccontextmanager
async def database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/volunteering.db"
        return
    assert PG_URL
    name, url = await _create_pg_database()
    try:
        yield url
    finally:
        await _drop_pg_database(name)


@contextlib.asynccontextmanager
async def service(
    backend: str,
    tmp_path: Path,
    kafka_bootstrap: str,
    jwt_keys: tuple[Path, Path],
    **settings: Any,
) -> AsyncIterator[Service]:
    """The service on a fresh database and fresh topics, with its relay and projections."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    ensurer = TopicEnsurer(kafka_bootstrap, 1, 1)
    await ensurer.ensure({prefix + t for t in TOPICS})
    await ensurer.close()
    async with database(backend, tmp_path) as url:
        app = create_app(
            Settings(
                DATABASE_URL=url,
                KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
                DOORSTEP_TOPIC_PREFIX=prefix,
                JWT_PUBLIC_KEY_FILE=str(jwt_keys[1]),
                DOORSTEP_VAR_DIR=str(tmp_path),
                KAFKA_TOPIC_PARTITIONS=1,
                RELAY_POLL_INTERVAL=0.05,
                LOG_LEVEL="WARNING",
                **settings,
            )
        )
        runtime: Runtime = app.state.runtime
        clock = Clock()
        runtime.clock = clock
        feed = Feed(kafka_bootstrap, prefix)
        await feed.producer.start()
        try:
            async with running_app(app) as client:
                yield Service(client, runtime, clock, feed, jwt_keys)
        finally:
            await feed.producer.stop()


async def directory_has(svc: Service, table: str, key: str, value: str, **expect: Any) -> bool:
    """True once the directory projection holds the row (with the expected values)."""
    t = metadata.tables[table]
    async with svc.runtime.db.session() as s:
        row = (await s.execute(select(t).where(t.c[key] == value))).first()
    return row is not None and all(getattr(row, k) == v for k, v in expect.items())
