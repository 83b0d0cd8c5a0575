"""Other services' events as a test feeds them to a service: contract classes, the core's headers.

A test that stands in for a producer publishes what that producer's relay would:
an event of the `doorstep_contracts` class (so a missing or renamed field fails
here, not in the service under test), with the headers `event_headers` writes.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from doorstep_contracts import PRODUCERS, topic_of
from doorstep_shared.domain import Event
from doorstep_shared.eventstore import StoredEvent
from doorstep_shared.messaging import encode_data, event_headers

_positions = itertools.count(1_000_000)

# what a test need not spell out about a resident it registers
RESIDENT_DEFAULTS: dict[str, Any] = {
    "community_code": "330102001001",
    "grid_code": "330102001001001",
    "building": "1",
    "unit": "1-101",
    "household_id": None,
    "hukou": "local",
    "sex": "female",
    "birth_year": 1980,
    "tags": [],
    "skills": [],
    "availability": [],
    "job_preferences": {},
    "employment_status": "unemployed",
    "consent": {"employment_matching": True, "share_with_partners": False},
    "pii": {},
    "id_hash": "",
}
DEFAULTS: dict[str, dict[str, Any]] = {"ResidentRegistered": RESIDENT_DEFAULTS}


def event_of(service: str, event_type: str, data: dict[str, Any]) -> Event:
    """The producer's contract class for `event_type`, from `data` (plus test defaults)."""
    cls = PRODUCERS[service].registry.get(event_type)
    return cls.from_data({**DEFAULTS.get(event_type, {}), **data})


def record_of(
    service: str,
    event: Event,
    *,
    subject: str,
    version: int,
    position: int | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
    meta: dict[str, Any] | None = None,
) -> tuple[str, bytes, bytes, list[tuple[str, bytes]]]:
    """(topic, key, value, headers) of `event` as `service`'s relay publishes it."""
    topic = topic_of(type(event))
    stored = StoredEvent(
        position=next(_positions) if position is None else position,
        event_id=event_id or str(uuid.uuid4()),
        stream_id=subject,
        stream_type=topic.split(".", 1)[1],
        version=version,
        event_type=type(event).type_name(),
        schema_version=type(event).schema_version,
        data=event.to_data(),
        meta=meta or {},
        recorded_at=time or datetime.now(UTC),
    )
    headers = event_headers(service, stored)
    return topic, subject.encode(), encode_data(stored.data), [(k, v.encode()) for k, v in headers.items()]


async def publish(producer: AIOKafkaProducer, prefix: str, service: str, event: Event, **kw: Any) -> str:
    """Publish one event; returns its `ce_id` (pass `event_id` again to redeliver it)."""
    topic, key, value, headers = record_of(service, event, **kw)
    await producer.send_and_wait(f"{prefix}{topic}", value, key=key, headers=headers)
    return dict(headers)["ce_id"].decode()
