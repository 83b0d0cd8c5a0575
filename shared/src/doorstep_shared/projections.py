"""Projections: read models fed from Kafka, checkpointed in their own database.

A runner consumes its topics in a consumer group with manual acknowledgement
(FastStream's Kafka default would commit before we process). Each batch is
applied in one transaction together with the per-partition offsets and the
per-stream versions it reached. Offsets are only a hint (a broker restarted
empty numbers them from 0 again); stream versions decide: a redelivered or
republished event is skipped, one whose predecessor is missing is held back
until the republished history brings it again, in order. Only after that
commit is the Kafka offset committed. An event that keeps failing goes to
`<topic>.dlq` with its error and its stream goes on; an infrastructure failure
rewinds and retries instead.

A rebuild (doorstep_shared.rebuild) builds a new read model beside this one,
from the service's event log or from Kafka, and swaps it in; `reset` here
clears the read model for a replay in place from the topics.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from aiokafka import TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.message import StreamMessage
from sqlalchemy import Table, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from doorstep_shared.applied import AppliedVersions
from doorstep_shared.db import Database
from doorstep_shared.domain import Event, utcnow
from doorstep_shared.eventstore import CoreTables
from doorstep_shared.messaging import Envelope, TopicEnsurer, dead_letter_topic
from doorstep_shared.metrics import (
    PROJECTION_APPLIED,
    PROJECTION_DEAD_LETTERS,
    PROJECTION_GAPS,
    PROJECTION_LAG,
    PROJECTION_REWINDS,
)
from doorstep_shared.rewind import PartitionWatch
from doorstep_shared.writes import deferred_upserts, upsert

log = logging.getLogger("doorstep.projections")

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]
BatchStart = Callable[[AsyncSession, Sequence[Envelope]], Awaitable[None]]
BatchEnd = Callable[[AsyncSession], Awaitable[None]]


class Projection:
    """A named read model: the topics it reads, its handlers and its tables."""

    def __init__(
        self, name: str, topics: Sequence[str], tables: Iterable[Any] = (), *, key_lookups_only: bool = False
    ) -> None:
        """`key_lookups_only`: the handlers read their tables by primary key alone, so a
        rebuild's shadow needs none of the tables' other indexes (it builds much faster)."""
        self.name = name
        self.key_lookups_only = key_lookups_only
        self.topics = list(topics)
        self.tables: list[Table] = [getattr(t, "__table__", t) for t in tables]
        self.handlers: dict[str, Handler] = {}
        self.consumes: dict[str, type[Event]] = {}  # event type -> contract class, for the contract test
        self._batch_start: BatchStart | None = None
        self._batch_end: BatchEnd | None = None
        self._rebuilt: list[BatchEnd] = []

    def with_topics(self, topics: Sequence[str]) -> Projection:
        """The same read model (name, tables, handlers, hooks) fed from `topics` only."""
        copy = Projection(self.name, topics, self.tables, key_lookups_only=self.key_lookups_only)
        copy.handlers, copy.consumes = self.handlers, self.consumes
        copy._batch_start, copy._batch_end, copy._rebuilt = self._batch_start, self._batch_end, self._rebuilt
        return copy

    def after_rebuild(self, fn: BatchEnd) -> BatchEnd:
        """Register a hook run once a rebuilt read model was swapped in (to reload what
        the process keeps in memory from it); rebuild sessions skip such side effects."""
        self._rebuilt.append(fn)
        return fn

    async def rebuilt(self, session: AsyncSession) -> None:
        for fn in self._rebuilt:
            await fn(session)

    def before_batch(self, fn: BatchStart) -> BatchStart:
        """Register a hook run before a batch's events (to load what they touch at once)."""
        self._batch_start = fn
        return fn

    def after_batch(self, fn: BatchEnd) -> BatchEnd:
        """Register a hook run after a batch's events, in the same transaction."""
        self._batch_end = fn
        return fn

    async def start_batch(self, session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        if self._batch_start is not None:
            await self._batch_start(session, envelopes)

    async def end_batch(self, session: AsyncSession) -> None:
        if self._batch_end is not None:
            await self._batch_end(session)

    def on(self, *event_types: type[Event]) -> Callable[[Handler], Handler]:
        """Register a handler for events of the published contract (`doorstep_contracts`)."""

        def deco(fn: Handler) -> Handler:
            for event_type in event_types:
                name = event_type.type_name()
                self.consumes[name] = event_type
                self.handlers[name] = fn
            return fn

        return deco

    async def apply_batch(self, session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        """Apply a batch's events in order between its hooks, their row writes queued and
        written per statement shape (`deferred_upserts`)."""
        async with deferred_upserts(session):
            await self.start_batch(session, envelopes)
            for env in envelopes:
                await self.apply(session, env)
            await self.end_batch(session)

    async def apply(self, session: AsyncSession, env: Envelope) -> None:
        handler = self.handlers.get(env.event_type)
        if handler is not None:
            await handler(session, env)


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory locks."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


async def _undecoded(msg: StreamMessage[Any]) -> Any:
    """The runner reads the raw records; skip FastStream's per-record message and JSON decoding."""
    return msg.body


class ProjectionRunner:
    def __init__(
        self,
        *,
        db: Database,
        tables: CoreTables,
        projection: Projection,
        broker_factory: Callable[[], KafkaBroker],
        service: str,
        topic_prefix: str = "",
        max_attempts: int = 3,
        max_records: int = 1000,
        fetch_max_wait_ms: int = 500,
        max_partition_fetch_bytes: int = 1024 * 1024,
        batch_timeout_ms: int = 10,
        topics: TopicEnsurer | None = None,
    ) -> None:
        self.db = db
        # makes the topics read before subscribing, and again after a broker lost them: a
        # consumer cannot commit offsets of a topic the broker no longer has, and would wait
        self.ensurer = topics
        self.t = tables
        self.projection = projection
        self.broker_factory = broker_factory
        self.service = service
        self.topic_prefix = topic_prefix
        self.max_attempts = max_attempts
        self.max_records = max_records
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self.max_partition_fetch_bytes = max_partition_fetch_bytes
        # FastStream sleeps as long again after an empty poll: both add to read-your-writes latency
        self.batch_timeout_ms = batch_timeout_ms
        self.broker: KafkaBroker | None = None
        self._subscriber: Any = None
        self._applied = asyncio.Condition()
        self.applied = AppliedVersions(db, tables, projection.name, local=lambda: self.broker is not None)
        self.generation = 0
        self.dead_letters = 0
        self._epochs: dict[tuple[str, int], int] | None = None  # loaded on first use
        # partitions to read again from their beginning, with the relay epoch that asks for it
        self.stale_partitions: dict[tuple[str, int], int] = {}
        self.watch = PartitionWatch(
            db=db,
            tables=tables,
            service=service,
            projection=projection.name,
            consumer=lambda: getattr(self._subscriber, "consumer", None),
            tracked_offsets=self.tracked_offsets,
            ensure_topics=self._ensure_topics,
        )

    @property
    def name(self) -> str:
        return self.projection.name

    @property
    def topics(self) -> list[str]:
        return [f"{self.topic_prefix}{t}" for t in self.projection.topics]

    def group_id(self) -> str:
        return f"{self.topic_prefix}{self.service}.{self.name}.g{self.generation}"

    async def _ensure_topics(self) -> None:
        if self.ensurer is not None:
            await self.ensurer.ensure(set(self.topics))

    async def start(self) -> None:
        await self._ensure_topics()
        self.generation = await self._load_generation()
        self._epochs = None  # reread: a rebuild may have replaced the tracking rows
        broker = self.broker_factory()
        subscriber = broker.subscriber(
            *self.topics,
            group_id=self.group_id(),
            batch=True,
            max_records=self.max_records,
            batch_timeout_ms=self.batch_timeout_ms,
            fetch_max_wait_ms=self.fetch_max_wait_ms,
            max_partition_fetch_bytes=self.max_partition_fetch_bytes,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            decoder=_undecoded,
            listener=self.watch,
            title=f"{self.service}.{self.name}",
            description=f"Read-model projection {self.name} of {self.service}",
        )
        subscriber(self._on_batch)
        self._subscriber = subscriber
        self.broker = broker
        await broker.start()
        self.watch.start()

    @property
    def consuming(self) -> bool:
        """True once the consumer group has given this runner its partitions."""
        consumer = getattr(self._subscriber, "consumer", None)
        try:
            return bool(consumer is not None and consumer.assignment())
        except Exception:  # the consumer is between states
            return False

    async def stop(self) -> None:
        await self.watch.stop()
        if self.ensurer is not None:
            await self.ensurer.close()
        if self.broker is not None:
            await self.broker.stop()
            self.broker = None
            self._subscriber = None
        await self.applied.stop()

    # consuming ---------------------------------------------------------------

    async def _on_batch(self, body: list[Any], msg: KafkaMessage) -> None:
        """Apply a fetched batch, then acknowledge it. Never raises: an exception here
        would end the subscriber's consuming loop, and the read model would stop."""
        records = msg.raw_message if isinstance(msg.raw_message, tuple) else (msg.raw_message,)
        try:
            await self.apply_records(records)
        except Exception:
            log.warning("batch failed, applying one by one", exc_info=True)
            try:
                for record in records:
                    await self._apply_isolated(record)
            except Exception:
                log.exception("projection %s cannot write; rewinding", self.name)
                with contextlib.suppress(Exception):
                    await msg.nack()
                await asyncio.sleep(1.0)
                return
        try:
            if self.stale_partitions:
                await self._read_again()
            await msg.ack()
        except Exception as exc:  # a rebalance under way, a broker gone: what was applied is stored
            log.warning("projection %s: acknowledging a batch failed (%s); it may be read again", self.name, exc)
        self._update_lag(msg, records)

    async def _read_again(self) -> None:
        """Read partitions again from their beginning (a relay republished its history).

        The new epoch is recorded only once the consumer was sent back to the start
        and that start committed: if the partition moved to another worker meanwhile,
        that worker still meets the epoch as new and reads the partition again itself.
        """
        consumer = getattr(self._subscriber, "consumer", None)
        stale, self.stale_partitions = self.stale_partitions, {}
        if consumer is None:
            return
        for (topic, partition), epoch in sorted(stale.items()):
            tp = TopicPartition(topic, partition)
            if tp not in consumer.assignment():
                continue  # moved to another worker, which meets the new epoch itself
            log.warning(
                "projection %s: %s[%d] carries a republished history (relay epoch %d) that may begin "
                "before where it was being read: reading it again from its beginning",
                self.name,
                topic,
                partition,
                epoch,
            )
            await consumer.seek_to_beginning(tp)
            await consumer.commit({tp: 0})
            await self._note_epoch((topic, partition), epoch)
            PROJECTION_REWINDS.labels(self.service, self.name).inc()

    async def _note_epoch(self, tp: tuple[str, int], epoch: int) -> None:
        t = self.t.projection_tracking
        async with self.db.transaction() as s:
            await s.execute(
                update(t)
                .where(t.c.projection == self.name, t.c.topic == tp[0], t.c.partition == tp[1])
                .values(epoch=epoch)
            )
        if self._epochs is not None:
            self._epochs[tp] = epoch

    async def apply_records(self, records: Sequence[Any]) -> int:
        """Apply Kafka records in one transaction with their checkpoints; returns how many applied.

        A record's offset is only a hint: a broker that restarted empty, or a topic
        that was recreated, numbers offsets from 0 again. What decides is the stream
        version: a record is applied when it is the next version of its stream,
        skipped as a repeat when its version was applied, and held back when an
        earlier version is missing (the relay republishes the log in order, so it
        arrives again after the missing ones).
        """
        envelopes = [Envelope.from_record(r) for r in records]
        epochs = await self._epochs_of(records, envelopes)
        return await self.apply_envelopes(envelopes, records, epochs)

    async def _epochs_of(self, records: Sequence[Any], envelopes: Sequence[Envelope]) -> dict[tuple[str, int], int]:
        """The relay epoch each partition reaches with these records; notes the partitions to
        read again from their beginning.

        A relay starts a new epoch when it publishes its history again because a broker
        lost records. Met at a partition's first offset, a new epoch only says the
        partition was rebuilt before we came; met part-way, we may have started reading
        after the beginning of the republished history (a consumer that went on from its
        old position on a broker restarted empty), so the partition is read again.
        """
        if self._epochs is None:
            self._epochs = {tp: epoch for tp, (_, epoch) in (await self._tracking()).items()}
        reached: dict[tuple[str, int], int] = {}
        for record, env in zip(records, envelopes, strict=True):
            tp = (record.topic, record.partition)
            known = max(reached.get(tp, 0), self._epochs.get(tp, 0))
            if env.epoch <= known:
                continue
            if record.offset == 0:
                reached[tp] = env.epoch  # read from its very start: nothing before it was missed
            else:  # noted once the partition is being read again from its start
                self.stale_partitions[tp] = max(env.epoch, self.stale_partitions.get(tp, 0))
        return reached

    async def apply_envelopes(
        self,
        envelopes: Sequence[Envelope],
        records: Sequence[Any] = (),
        epochs: dict[tuple[str, int], int] | None = None,
    ) -> int:
        """Apply envelopes (from Kafka `records`, or replayed from an event log) in one transaction."""
        async with self.db.transaction() as session:
            if records and session.get_bind().dialect.name == "postgresql":
                await self._lock_partitions(session, records)
            versions = await self.applied.load(session, {e.stream_key for e in envelopes})
            todo: list[Envelope] = []
            stream_rows: dict[str, dict[str, Any]] = {}
            gaps = 0
            for env in envelopes:
                applied = versions.get(env.stream_key, 0)
                if env.sequence:
                    if env.sequence <= applied:
                        continue  # a repeat: redelivered, republished or replayed
                    if env.sequence > applied + 1:
                        gaps += 1  # an earlier version is missing; it comes again, in order
                        continue
                todo.append(env)
                versions[env.stream_key] = env.sequence
                stream_rows[env.stream_key] = {
                    "projection": self.name,
                    "stream_id": env.stream_key,
                    "version": env.sequence,
                    "position": env.position,
                }
            await self.projection.apply_batch(session, todo)
            applied_count = len(todo)
            if records:
                await self._save_offsets(session, records, epochs or {})
            await upsert(
                session,
                self.t.projection_streams,
                list(stream_rows.values()),
                ["projection", "stream_id"],
            )
        if epochs and self._epochs is not None:
            self._epochs.update(epochs)
        PROJECTION_APPLIED.labels(self.service, self.name).inc(applied_count)
        if gaps:
            PROJECTION_GAPS.labels(self.service, self.name).inc(gaps)
            log.warning("projection %s held back %d events whose stream has a missing version", self.name, gaps)
        for key, row in stream_rows.items():
            self.applied.note(key, row["version"])
        async with self._applied:
            self._applied.notify_all()
        return applied_count

    async def _lock_partitions(self, session: AsyncSession, records: Sequence[Any]) -> None:
        """Two workers of a service share a consumer group; while partitions move between
        them, both may hold one partition's records for a moment. Each batch first takes a
        transaction-scoped lock per partition (in one order, so no deadlock), and reads the
        applied versions only then: the second of two never applies what the first did."""
        for topic, partition in sorted({(r.topic, r.partition) for r in records}):
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": self.lock_key(topic, partition)})

    def lock_key(self, topic: str, partition: int) -> int:
        """The advisory lock a batch of this partition holds (a rebuild's swap takes it too)."""
        return _lock_key(f"{self.service}.{self.name}:{topic}:{partition}")

    async def _apply_isolated(self, record: Any) -> None:
        error: Exception | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self.apply_records([record])
                return
            except Exception as exc:  # retried, then dead-lettered
                error = exc
                await asyncio.sleep(0.05 * attempt)
        assert error is not None
        await self._dead_letter(record, error)

    async def _dead_letter(self, record: Any, error: Exception) -> None:
        """Park a poison event on the dead-letter topic, then step over it."""
        assert self.broker is not None
        headers = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in (record.headers or [])}
        headers.update(
            {
                "dlq_error": f"{type(error).__name__}: {error}"[:1000],
                "dlq_projection": f"{self.service}.{self.name}",
                "dlq_topic": record.topic,
                "dlq_partition": str(record.partition),
                "dlq_offset": str(record.offset),
            }
        )
        await self.broker.publish(record.value or b"", dead_letter_topic(record.topic), key=record.key, headers=headers)
        try:
            env: Envelope | None = Envelope.from_record(record)
        except Exception:  # not even an envelope: nothing of a stream to step over
            env = None
        async with self.db.transaction() as session:
            await self._save_offsets(session, [record])
            if env is not None and env.sequence:
                # step over the parked version, or every later event of its stream would wait for it
                applied = (await self.applied.load(session, {env.stream_key})).get(env.stream_key, 0)
                if env.sequence == applied + 1:
                    row = {"projection": self.name, "stream_id": env.stream_key, "version": env.sequence}
                    await upsert(
                        session,
                        self.t.projection_streams,
                        [{**row, "position": env.position}],
                        ["projection", "stream_id"],
                    )
        self.dead_letters += 1
        PROJECTION_DEAD_LETTERS.labels(self.service, self.name).inc()
        log.error(
            "event dead-lettered",
            extra={
                "projection": self.name,
                "topic": record.topic,
                "offset": record.offset,
                "error": str(error),
            },
        )

    # checkpoints -------------------------------------------------------------

    async def _save_offsets(
        self, session: AsyncSession, records: Sequence[Any], epochs: dict[tuple[str, int], int] | None = None
    ) -> None:
        last: dict[tuple[str, int], int] = {}
        for r in records:
            last[(r.topic, r.partition)] = max(r.offset, last.get((r.topic, r.partition), -1))
        known = self._epochs or {}
        rows = [
            {
                "projection": self.name,
                "topic": tp[0],
                "partition": tp[1],
                "offset": off,
                "updated_at": utcnow(),
                "epoch": max((epochs or {}).get(tp, 0), known.get(tp, 0)),
            }
            for tp, off in last.items()
        ]
        await upsert(session, self.t.projection_tracking, rows, ["projection", "topic", "partition"])

    async def _load_generation(self) -> int:
        t = self.t.projection_generations
        async with self.db.session() as s:
            return (await s.execute(select(t.c.generation).where(t.c.projection == self.name))).scalar() or 0

    # read-your-writes and status ------------------------------------------------

    async def stream_version(self, stream_key: str, conn: AsyncConnection | None = None) -> int:
        """The version of a stream this projection has applied (0: none); on `conn` if given."""
        return await self.applied.version(stream_key, conn)

    async def reached(self, stream_key: str, version: int, conn: AsyncConnection | None = None) -> bool:
        return await self.applied.reached(stream_key, version, conn)

    async def wait_for_stream(self, stream_key: str, version: int, timeout: float, *, checked: bool = False) -> bool:
        """Wait until this projection has applied `version` of a stream; False on timeout."""
        return await self.applied.wait(stream_key, version, timeout, checked=checked)

    def _update_lag(self, msg: KafkaMessage, records: Sequence[Any]) -> None:
        consumer: Any = getattr(msg, "consumer", None)
        if consumer is None or not hasattr(consumer, "highwater"):
            return
        last: dict[Any, int] = {}
        for r in records:
            last[(r.topic, r.partition)] = max(r.offset, last.get((r.topic, r.partition), -1))
        lag = 0
        for (topic, partition), offset in last.items():
            high = consumer.highwater(TopicPartition(topic, partition))
            if high is not None:
                lag += max(0, high - offset - 1)
        PROJECTION_LAG.labels(self.service, self.name).set(lag)

    async def tracked_offsets(self) -> dict[tuple[str, int], int]:
        return {tp: offset for tp, (offset, _) in (await self._tracking()).items()}

    async def _tracking(self) -> dict[tuple[str, int], tuple[int, int]]:
        """Per partition: the last offset applied and the relay epoch reached."""
        t = self.t.projection_tracking
        query = select(t.c.topic, t.c.partition, t.c.offset, t.c.epoch).where(t.c.projection == self.name)
        async with self.db.session() as s:
            return {(r.topic, r.partition): (r.offset, r.epoch) for r in await s.execute(query)}

    async def wait_caught_up(self, end_offsets: dict[tuple[str, int], int], timeout: float) -> None:
        """Wait until every partition in `end_offsets` (next offset to write) is applied."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            tracked = await self.tracked_offsets()
            if all(tracked.get(tp, -1) >= end - 1 for tp, end in end_offsets.items() if end > 0):
                return
            if loop.time() > deadline:
                raise TimeoutError(f"projection {self.name} did not catch up")
            async with self._applied:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.1):
                        await self._applied.wait()

    # rebuild -----------------------------------------------------------------------

    async def reset(self) -> int:
        """Clear the read model and its checkpoints and move to a new consumer group."""
        gens = self.t.projection_generations
        async with self.db.transaction() as s:
            for table in reversed(self.projection.tables):
                await s.execute(delete(table))
            await s.execute(
                delete(self.t.projection_tracking).where(self.t.projection_tracking.c.projection == self.name)
            )
            await s.execute(
                delete(self.t.projection_streams).where(self.t.projection_streams.c.projection == self.name)
            )
            current = (await s.execute(select(gens.c.generation).where(gens.c.projection == self.name))).scalar()
            new = (current or 0) + 1
            await upsert(s, gens, [{"projection": self.name, "generation": new}], ["projection"])
        self.applied.forget()
        self._epochs = None
        return new

    async def swapped(self) -> None:
        """A rebuilt read model replaced this one's tables: wake readers it satisfies."""
        await self.applied.refresh()
