"""Kafka conventions: topic names, CloudEvents binary-mode headers, the broker.

Every event travels on `<service>.<aggregate>` keyed by its aggregate id, its
JSON data as the value and its attributes as `ce_*` headers (CloudEvents 1.0
Kafka protocol binding, binary mode), so any Kafka tool can read it.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any, TypeVar

import orjson
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker

from doorstep_shared.domain import Event
from doorstep_shared.eventstore import StoredEvent
from doorstep_shared.settings import ServiceSettings

E = TypeVar("E", bound=Event)

SPEC_VERSION = "1.0"
TYPE_PREFIX = "doorstep"


def topic_name(service: str, aggregate: str, prefix: str = "") -> str:
    return f"{prefix}{service}.{aggregate}"


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


def _header(description: str) -> dict[str, str]:
    return {"type": "string", "description": description}


# the Kafka headers of every event record (CloudEvents 1.0, binary mode), as AsyncAPI documents them
HEADERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "ce_specversion": _header("CloudEvents version: 1.0"),
        "ce_id": _header("The event's id (unique; a consumer may see it more than once)"),
        "ce_type": _header("doorstep.<service>.<EventType>"),
        "ce_source": _header("/doorstep/<service>"),
        "ce_subject": _header("The aggregate's id (also the record key)"),
        "ce_time": _header("When the event was recorded (ISO 8601, UTC)"),
        "ce_sequence": _header("The event's version in its stream: consumers apply versions in order"),
        "ce_position": _header("The event's position in the producer's event log"),
        "ce_schemaversion": _header("Version of the event's data schema"),
        "ce_streamtype": _header("The aggregate type (the topic's last part)"),
        "ce_relayepoch": _header("Set once the producer republished its history; a newer epoch means read again"),
        "ce_correlationid": _header("The request that led to the event"),
        "ce_causationid": _header("The event that caused it, when a reaction recorded it"),
        "ce_actor": _header("Who gave the command"),
        "content-type": _header("application/json"),
    },
    "required": [
        "ce_specversion",
        "ce_id",
        "ce_type",
        "ce_source",
        "ce_subject",
        "ce_time",
        "ce_sequence",
        "ce_position",
        "ce_schemaversion",
    ],
}


def event_headers(service: str, event: StoredEvent, epoch: int = 0) -> dict[str, str]:
    meta = event.meta or {}
    headers = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": event.event_id,
        "ce_type": f"{TYPE_PREFIX}.{service}.{event.event_type}",
        "ce_source": f"/doorstep/{service}",
        "ce_subject": event.stream_id,
        "ce_time": event.recorded_at.isoformat(),
        "ce_sequence": str(event.version),
        "ce_position": str(event.position),
        "ce_schemaversion": str(event.schema_version),
        "ce_streamtype": event.stream_type,
        "content-type": "application/json",
    }
    if epoch:
        headers["ce_relayepoch"] = str(epoch)
    if meta.get("correlation_id"):
        headers["ce_correlationid"] = str(meta["correlation_id"])
    if meta.get("causation_id"):
        headers["ce_causationid"] = str(meta["causation_id"])
    if meta.get("actor"):
        headers["ce_actor"] = str(meta["actor"])
    return headers


def encode_data(data: dict[str, Any]) -> bytes:
    # compact UTF-8, as json.dumps(ensure_ascii=False) writes it, at a fraction of the cost
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


@dataclasses.dataclass(frozen=True)
class Envelope:
    """An event as a consumer sees it: CloudEvents attributes plus where it was read."""

    event_id: str
    event_type: str
    service: str
    subject: str
    sequence: int
    position: int
    schema_version: int
    time: datetime | None
    data: dict[str, Any]
    correlation_id: str | None
    causation_id: str | None
    topic: str
    partition: int
    offset: int
    # the publishing relay's epoch: it grows each time the relay publishes its history
    # again because a broker lost records (see relay.py)
    epoch: int = 0

    @classmethod
    def from_record(cls, record: Any) -> Envelope:
        headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in (record.headers or [])}
        ce_type = headers.get("ce_type", "")
        parts = ce_type.split(".")
        if len(parts) < 3 or parts[0] != TYPE_PREFIX:
            raise ValueError(f"not a Doorstep event: ce_type={ce_type!r}")
        value = record.value
        data = orjson.loads(value) if value else {}
        return cls(
            event_id=headers["ce_id"],
            event_type=parts[-1],
            service=parts[1],
            subject=headers.get("ce_subject", ""),
            sequence=int(headers.get("ce_sequence", "0")),
            position=int(headers.get("ce_position", "0")),
            schema_version=int(headers.get("ce_schemaversion", "1")),
            time=datetime.fromisoformat(headers["ce_time"]) if headers.get("ce_time") else None,
            data=data,
            correlation_id=headers.get("ce_correlationid"),
            causation_id=headers.get("ce_causationid"),
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            epoch=int(headers.get("ce_relayepoch", "0")),
        )

    @classmethod
    def from_stored(cls, service: str, event: StoredEvent) -> Envelope:
        """The envelope a consumer would receive for `event` (a replay from the event log)."""
        meta = event.meta or {}
        return cls(
            event_id=event.event_id,
            event_type=event.event_type,
            service=service,
            subject=event.stream_id,
            sequence=event.version,
            position=event.position,
            schema_version=event.schema_version,
            time=event.recorded_at,
            data=event.data,
            correlation_id=meta.get("correlation_id"),
            causation_id=meta.get("causation_id"),
            topic=topic_name(service, event.stream_type),
            partition=-1,
            offset=-1,
        )

    def event(self, cls: type[E]) -> E:
        """The record read as the contract's event class (a missing field raises: a broken contract)."""
        return cls.from_data(self.data)

    @property
    def stream_key(self) -> str:
        """Dedupe key: events of one stream arrive in version order on one partition."""
        return f"{self.service}:{self.subject}"


# Event topics keep every record for ever: each service's event log is the truth and
# its topics are a full, replayable copy of it (rebuilds and new projections read
# them from the beginning), so neither age nor size may delete anything.
EVENT_TOPIC_CONFIGS: dict[str, str] = {"retention.ms": "-1", "retention.bytes": "-1"}

TOPIC_ALREADY_EXISTS = 36
# what a broker answers when it refuses a topic's configs rather than the topic itself
CONFIG_REFUSED = frozenset({40, 42, 44})  # INVALID_CONFIG, INVALID_REQUEST, POLICY_VIOLATION

log = logging.getLogger("doorstep.kafka.topics")


class TopicEnsurer:
    """Create event topics, and their dead-letter topics, before publishing to them.

    Production brokers run with topic auto-creation off, so every topic is made
    here with the configured partitions and replication and unlimited retention
    (`EVENT_TOPIC_CONFIGS`); a projection's dead-letter topic `<topic>.dlq` is
    made with its topic, so parking a poison event never depends on auto-creation.
    The embedded broker, once restarted with empty memory, acknowledges writes to
    a topic it no longer has and drops them, so the relay asks for its topics on
    every batch (a cheap no-op when they exist) and a restart cannot swallow events.
    A broker that refuses the configs gets the topics without them (and one warning).
    """

    def __init__(
        self,
        bootstrap_servers: str,
        partitions: int,
        replication: int,
        configs: dict[str, str] | None = None,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.partitions = partitions
        self.replication = replication
        self.configs = dict(EVENT_TOPIC_CONFIGS if configs is None else configs)
        self._admin: AIOKafkaAdminClient | None = None

    async def ensure(self, topics: set[str]) -> None:
        if self._admin is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers, request_timeout_ms=5000)
            await admin.start()
            self._admin = admin
        wanted = sorted(topics | {dead_letter_topic(t) for t in topics if not t.endswith(".dlq")})
        refused = await self._create(wanted, self.configs)
        if refused:  # from now on without them: the relay asks on every batch
            log.warning("the broker refused the topic configs %s; creating topics without them", self.configs)
            self.configs = {}
            await self._create(refused, {}, raise_on_error=True)

    async def _create(self, topics: list[str], configs: dict[str, str], raise_on_error: bool = False) -> list[str]:
        """Create `topics`; return those whose configs the broker refused (raise on other errors)."""
        assert self._admin is not None
        result = await self._admin.create_topics(
            [NewTopic(t, self.partitions, self.replication, topic_configs=dict(configs)) for t in topics]
        )
        refused = []
        for topic, code, message in getattr(result, "topic_errors", []):
            if code in (0, TOPIC_ALREADY_EXISTS):
                continue
            if code in CONFIG_REFUSED and configs and not raise_on_error:
                refused.append(topic)
                continue
            raise RuntimeError(f"cannot create topic {topic}: {code} {message}")
        return refused

    async def close(self) -> None:
        if self._admin is not None:
            admin, self._admin = self._admin, None
            await admin.close()


def make_broker(settings: ServiceSettings, *, client_suffix: str = "") -> KafkaBroker:
    """A FastStream Kafka broker; idempotence is a setting (the embedded broker lacks it)."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"doorstep-{settings.service_name}{client_suffix}",
        enable_idempotence=settings.kafka_enable_idempotence,
        acks="all",
        request_timeout_ms=10_000,
        linger_ms=2,
        logger=logging.getLogger(f"doorstep.kafka.{settings.service_name}"),
        log_level=logging.DEBUG,
    )
