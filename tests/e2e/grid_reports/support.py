"""Test support for grid reports: a movable clock, registration events, topic reading."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tests.events import event_of, publish


class FakeClock:
    """The service clock under the test's control."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class RegistrationFeed:
    """Publishes registration's resident events as registration's relay would."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.bootstrap, self.prefix = bootstrap, prefix
        self.versions: dict[str, int] = {}
        self.position = 0

    async def publish(
        self, event_type: str, resident_id: str, data: dict[str, Any], *, version: int | None = None
    ) -> None:
        if version is None:
            version = self.versions.get(resident_id, 0) + 1
        self.versions[resident_id] = max(version, self.versions.get(resident_id, 0))
        self.position += 1
        event = event_of("registration", event_type, {"resident_id": resident_id, **data})
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap)
        await producer.start()
        try:
            await publish(producer, self.prefix, "registration", event, subject=resident_id, version=version)
        finally:
            await producer.stop()


async def read_events(bootstrap: str, topic: str, event_type: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Every event of `event_type` on `topic` so far, as (headers-derived type, data)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    out: list[dict[str, Any]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        idle = 0
        while loop.time() < deadline and idle < 3:
            batch = await consumer.getmany(timeout_ms=300)
            if not batch:
                idle += 1 if out else 0
                continue
            idle = 0
            for records in batch.values():
                for r in records:
                    headers = {k: v.decode() for k, v in r.headers}
                    if headers["ce_type"].endswith(f".{event_type}"):
                        out.append(json.loads(r.value))
    finally:
        await consumer.stop()
    return out
