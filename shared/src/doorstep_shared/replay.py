"""What a rebuild replays into its shadow: the event log's rows as envelopes, the stream
versions they reach, a runner writing the shadow, and where Kafka's partitions begin and end."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import Table, bindparam, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from doorstep_shared.eventstore import EventStore, decoded
from doorstep_shared.messaging import Envelope, topic_name
from doorstep_shared.projections import ProjectionRunner


@dataclasses.dataclass
class Progress:
    """Where a rebuild is: shown by the CLI every second and by `GET /admin/projections`."""

    projection: str
    source: str
    state: str = "checking"  # checking, replaying, swapping, done, refused, failed
    events: int = 0
    total: int = 0
    seconds: float = 0.0
    error: str | None = None
    started: float = dataclasses.field(default_factory=time.perf_counter, repr=False)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def tick(self) -> None:
        self.seconds = time.perf_counter() - self.started

    def as_dict(self) -> dict[str, Any]:
        return {
            "projection": self.projection,
            "source": self.source,
            "state": self.state,
            "events": self.events,
            "total": self.total,
            "seconds": round(self.seconds, 3),
            "events_per_s": round(self.rate, 1),
            "error": self.error,
        }


class ShadowRunner(ProjectionRunner):
    """A runner writing the shadow: its own consumer group, and it remembers, per
    stream, the highest version it was given, to find the ones held back by a gap."""

    def __init__(self, *, generation: int, progress: Progress, on_progress: Callable[[Progress], None], **kw: Any):
        super().__init__(**kw)
        self.fixed_generation = generation
        self.progress = progress
        self.on_progress = on_progress
        self.seen: dict[str, int] = {}

    async def _load_generation(self) -> int:
        return self.fixed_generation

    async def apply_envelopes(
        self,
        envelopes: Sequence[Envelope],
        records: Sequence[Any] = (),
        epochs: dict[tuple[str, int], int] | None = None,
    ) -> int:
        seen = self.seen
        for env in envelopes:
            if env.sequence > seen.get(env.stream_key, 0):
                seen[env.stream_key] = env.sequence
        applied = await super().apply_envelopes(envelopes, records, epochs)
        self.progress.events += len(envelopes)
        self.progress.tick()
        self.on_progress(self.progress)
        return applied

    async def apply_log(self, envelopes: Sequence[Envelope], tracked: Any, bounds: dict[str, int]) -> None:
        """Apply a run of the event log, in one transaction with its stream versions.

        The shadow started empty and is given the log in position order, each event
        once: every stream's versions arrive contiguous, so there is none to look up
        and none to skip. The versions reached are then derived from the log itself
        (`tracked`, one INSERT ... SELECT over the positions in `bounds`), the same
        rows the event-by-event path would have written.
        """
        async with self.db.transaction() as session:
            await self.projection.apply_batch(session, envelopes)
            await session.execute(tracked, bounds)
        self.progress.events += len(envelopes)
        self.progress.tick()
        self.on_progress(self.progress)

    async def held_back(self) -> int:
        """Streams whose highest version seen was not applied: their history has a hole."""
        async with self.db.session() as s:
            applied = await self.applied.load(s, set(self.seen))
        return sum(1 for key, version in self.seen.items() if applied.get(key, 0) < version)


def log_envelopes(store: EventStore, service: str, rows: Sequence[Any], types: set[str]) -> list[Envelope]:
    """The envelopes a consumer of the own topics would have received for these log rows
    (data upcast to the current schema), built in one pass."""
    topics = {t: topic_name(service, t) for t in types}
    current = store.current_versions()
    out: list[Envelope] = []
    for position, event_id, stream_id, stream_type, version, event_type, schema, data, meta, at in rows:
        topic = topics.get(stream_type)
        if topic is None:
            continue
        data = decoded(data)
        if schema < current.get(event_type, schema):
            data = store.upcasters.upcast(event_type, schema, data, current[event_type])
            schema = current[event_type]
        m = decoded(meta) or {}
        out.append(
            Envelope(
                event_id,
                event_type,
                service,
                stream_id,
                version,
                position,
                schema,
                at,
                data,
                m.get("correlation_id"),
                m.get("causation_id"),
                topic,
                -1,
                -1,
            )
        )
    return out


def tracked_versions(
    events: Table, streams: Table, projection: str, service: str, dialect: str, types: list[str]
) -> Any:
    """Upsert of the projection's stream versions reached by the log's positions
    in (after, upto]: per stream of the own topics, its highest version there."""
    reached = (
        select(
            literal(projection, streams.c.projection.type),
            literal(f"{service}:", streams.c.stream_id.type) + events.c.stream_id,
            func.max(events.c.version),
            func.max(events.c.position),
        )
        .where(
            events.c.position > bindparam("after"),
            events.c.position <= bindparam("upto"),
            events.c.stream_type.in_(types),
        )
        .group_by(events.c.stream_id)
    )
    table: Table = streams
    stmt: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    stmt = stmt.from_select(["projection", "stream_id", "version", "position"], reached)
    return stmt.on_conflict_do_update(
        index_elements=["projection", "stream_id"],
        set_={"version": stmt.excluded.version, "position": stmt.excluded.position},
    )


async def topic_offsets(
    bootstrap: str, topics: list[str]
) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    """(beginning, end) offsets of every partition of `topics` that exists.

    The end is the offset after the last record actually read back: the embedded
    broker reports as end offset the base offset of the partition's last record
    batch plus one, short of the truth by the rest of that batch.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, request_timeout_ms=10_000, enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer.topics()  # refreshes the cluster metadata
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        if not partitions:
            return {}, {}
        begins = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        filled = [tp for tp in partitions if ends[tp] > begins[tp]]
        if filled:
            consumer.assign(filled)
            for tp in filled:
                consumer.seek(tp, ends[tp] - 1)
            pending, deadline = set(filled), time.monotonic() + 5.0
            while pending and time.monotonic() < deadline:
                for tp, records in (await consumer.getmany(*pending, timeout_ms=200)).items():
                    if records:
                        ends[tp] = max(ends[tp], records[-1].offset + 1)
                        pending.discard(tp)
        return (
            {(tp.topic, tp.partition): off for tp, off in begins.items()},
            {(tp.topic, tp.partition): off for tp, off in ends.items()},
        )
    finally:
        await consumer.stop()
