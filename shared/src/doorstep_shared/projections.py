"""Projections: read models fed from Kafka, checkpointed in their own database.

A runner consumes its topics in a consumer group with manual acknowledgement
(FastStream's Kafka default would commit before we process). Each batch is
applied in one transaction together with the per-partition offsets and the
per-stream versions it reached, so a redelivered message or a republished
event is recognised and skipped. Only after that commit is the Kafka offset
committed. An event that keeps failing goes to `<topic>.dlq` with its error and
the runner moves on; an infrastructure failure rewinds and retries instead.

A rebuild (doorstep_shared.rebuild) builds a new read model beside this one,
from the service's event log or from Kafka, and swaps it in; `reset` and
`rebuild` here replay in place from the topics alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.message import StreamMessage
from sqlalchemy import Table, bindparam, delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from doorstep_shared.db import Database, deferred_upserts, upsert
from doorstep_shared.domain import utcnow
from doorstep_shared.eventstore import CoreTables
from doorstep_shared.messaging import Envelope, dead_letter_topic
from doorstep_shared.metrics import (
    PROJECTION_APPLIED,
    PROJECTION_DEAD_LETTERS,
    PROJECTION_GAPS,
    PROJECTION_LAG,
    PROJECTION_REWINDS,
)

log = logging.getLogger("doorstep.projections")

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]
BatchStart = Callable[[AsyncSession, Sequence[Envelope]], Awaitable[None]]
BatchEnd = Callable[[AsyncSession], Awaitable[None]]


class Projection:
    """A named read model: the topics it reads, its handlers and its tables."""

    def __init__(self, name: str, topics: Sequence[str], tables: Iterable[Any] = ()) -> None:
        self.name = name
        self.topics = list(topics)
        self.tables: list[Table] = [getattr(t, "__table__", t) for t in tables]
        self.handlers: dict[str, Handler] = {}
        self._batch_start: BatchStart | None = None
        self._batch_end: BatchEnd | None = None
        self._rebuilt: list[BatchEnd] = []

    def with_topics(self, topics: Sequence[str]) -> Projection:
        """The same read model (name, tables, handlers, hooks) fed from `topics` only."""
        copy = Projection(self.name, topics, self.tables)
        copy.handlers = self.handlers
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

    def on(self, *event_types: str) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            for event_type in event_types:
                self.handlers[event_type] = fn
            return fn

        return deco

    async def apply(self, session: AsyncSession, env: Envelope) -> None:
        handler = self.handlers.get(env.event_type)
        if handler is not None:
            await handler(session, env)


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory locks."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


class _RewindWhenBrokerLost(ConsumerRebalanceListener):
    """On every assignment (a restarted broker forgot the group: we join it again),
    compare what the broker holds with what was applied before consuming."""

    def __init__(self, runner: ProjectionRunner) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        try:
            await self.runner.rewind_lost_partitions(assigned)
        except Exception as exc:  # the periodic check tries again
            log.warning("projection %s: checking assigned partitions failed: %s", self.runner.name, exc)


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
    ) -> None:
        self.db = db
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
        # read-your-writes without polling: the versions this runner applied lately,
        # and the readers waiting for a stream to reach a version
        self._recent: OrderedDict[str, int] = OrderedDict()
        self._waiters: dict[str, list[tuple[int, asyncio.Future[None]]]] = {}
        self._poller: asyncio.Task[None] | None = None
        self.remote_poll_interval = 0.01
        # built once: constructing a statement costs more than running it on SQLite
        t = tables.projection_streams
        self._stream_version = select(t.c.version).where(
            t.c.projection == bindparam("projection"), t.c.stream_id == bindparam("stream_id")
        )
        self._versions = select(t.c.stream_id, t.c.version).where(
            t.c.projection == bindparam("projection"), t.c.stream_id.in_(bindparam("stream_ids", expanding=True))
        )
        self.generation = 0
        self.dead_letters = 0
        self.rewinds = 0
        self.watch_interval = 5.0
        self._watch: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.projection.name

    @property
    def topics(self) -> list[str]:
        return [f"{self.topic_prefix}{t}" for t in self.projection.topics]

    def group_id(self) -> str:
        return f"{self.topic_prefix}{self.service}.{self.name}.g{self.generation}"

    async def start(self) -> None:
        self.generation = await self._load_generation()
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
            listener=_RewindWhenBrokerLost(self),
            title=f"{self.service}.{self.name}",
            description=f"Read-model projection {self.name} of {self.service}",
        )
        subscriber(self._on_batch)
        self._subscriber = subscriber
        self.broker = broker
        await broker.start()
        self._watch = asyncio.get_running_loop().create_task(self._watch_broker(), name=f"projection-{self.name}-watch")

    @property
    def consuming(self) -> bool:
        """True once the consumer group has given this runner its partitions."""
        consumer = getattr(self._subscriber, "consumer", None)
        try:
            return bool(consumer is not None and consumer.assignment())
        except Exception:  # the consumer is between states
            return False

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        if self.broker is not None:
            await self.broker.stop()
            self.broker = None
            self._subscriber = None
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    # a broker that lost what it held -------------------------------------------

    async def rewind_lost_partitions(self, partitions: Iterable[TopicPartition] | None = None) -> int:
        """Re-read from the beginning every partition that is empty although records were read from it.

        A broker restarted empty (the embedded one keeps topics in memory) or a topic
        recreated numbers its offsets from 0 again. A consumer whose position lies
        beyond the new end is reset to the beginning by the client itself, and a
        restarted broker has forgotten the consumer group, whose members then join
        again with no committed offsets and start from the beginning too. What
        remains is a partition that is empty now: it is read from its start once the
        relay republishes into it; stream versions drop the repeats. The embedded
        broker reports its end offset by record batch, so only an end of 0 is
        certain evidence there. Returns how many partitions were rewound.
        """
        consumer = getattr(self._subscriber, "consumer", None)
        if consumer is None:
            return 0
        assigned = set(consumer.assignment()) if partitions is None else set(partitions)
        if not assigned:
            return 0
        stored = await self.tracked_offsets()
        ends = await consumer.end_offsets(list(assigned))
        rewound = 0
        for tp in assigned:
            applied = stored.get((tp.topic, tp.partition), -1)
            if ends.get(tp) == 0 and applied >= 0:
                log.warning(
                    "projection %s: %s[%d] is empty, %d records were read from it: reading it from the start",
                    self.name,
                    tp.topic,
                    tp.partition,
                    applied + 1,
                )
                await consumer.seek_to_beginning(tp)
                await self._forget_offset(tp)
                rewound += 1
        if rewound:
            self.rewinds += rewound
            PROJECTION_REWINDS.labels(self.service, self.name).inc(rewound)
        return rewound

    async def _forget_offset(self, tp: TopicPartition) -> None:
        t = self.t.projection_tracking
        async with self.db.transaction() as s:
            await s.execute(
                delete(t).where(t.c.projection == self.name, t.c.topic == tp.topic, t.c.partition == tp.partition)
            )

    async def _watch_broker(self) -> None:
        """Check the assigned partitions against the broker every few seconds."""
        while True:
            await asyncio.sleep(self.watch_interval)
            try:
                await self.rewind_lost_partitions()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker is away: the next round looks again
                log.debug("projection %s: broker check failed: %s", self.name, exc)

    # consuming ---------------------------------------------------------------

    async def _on_batch(self, body: list[Any], msg: KafkaMessage) -> None:
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
                await msg.nack()
                await asyncio.sleep(1.0)
                return
        await msg.ack()
        self._update_lag(msg, records)

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
        return await self.apply_envelopes(envelopes, records)

    async def apply_envelopes(self, envelopes: Sequence[Envelope], records: Sequence[Any] = ()) -> int:
        """Apply envelopes (from Kafka `records`, or replayed from an event log) in one transaction."""
        async with self.db.transaction() as session:
            if records and session.get_bind().dialect.name == "postgresql":
                await self._lock_partitions(session, records)
            versions = await self._load_versions(session, {e.stream_key for e in envelopes})
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
            async with deferred_upserts(session):
                await self.projection.start_batch(session, todo)
                for env in todo:
                    await self.projection.apply(session, env)
                await self.projection.end_batch(session)
            applied_count = len(todo)
            if records:
                await self._save_offsets(session, records)
            await upsert(
                session,
                self.t.projection_streams,
                list(stream_rows.values()),
                ["projection", "stream_id"],
            )
        PROJECTION_APPLIED.labels(self.service, self.name).inc(applied_count)
        if gaps:
            PROJECTION_GAPS.labels(self.service, self.name).inc(gaps)
            log.warning("projection %s held back %d events whose stream has a missing version", self.name, gaps)
        for key, row in stream_rows.items():
            self._note_applied(key, row["version"])
        async with self._applied:
            self._applied.notify_all()
        return applied_count

    async def _lock_partitions(self, session: AsyncSession, records: Sequence[Any]) -> None:
        """Two workers of a service share a consumer group; while partitions move between
        them, both may hold one partition's records for a moment. Each batch first takes a
        transaction-scoped lock per partition (in one order, so no deadlock), and reads the
        applied versions only then: the second of two never applies what the first did."""
        for topic, partition in sorted({(r.topic, r.partition) for r in records}):
            key = _lock_key(f"{self.service}.{self.name}:{topic}:{partition}")
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    def _note_applied(self, stream_key: str, version: int, remember: int = 50_000) -> None:
        """Record a committed stream version and wake the readers it satisfies."""
        self._recent[stream_key] = version
        self._recent.move_to_end(stream_key)
        if len(self._recent) > remember:
            self._recent.popitem(last=False)
        self._wake(stream_key, version)

    def _wake(self, stream_key: str, version: int) -> None:
        for wanted, future in self._waiters.get(stream_key, ()):
            if wanted <= version and not future.done():
                future.set_result(None)

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
                applied = (await self._load_versions(session, {env.stream_key})).get(env.stream_key, 0)
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

    async def _save_offsets(self, session: AsyncSession, records: Sequence[Any]) -> None:
        last: dict[tuple[str, int], int] = {}
        for r in records:
            last[(r.topic, r.partition)] = max(r.offset, last.get((r.topic, r.partition), -1))
        rows = [
            {
                "projection": self.name,
                "topic": tp[0],
                "partition": tp[1],
                "offset": off,
                "updated_at": utcnow(),
            }
            for tp, off in last.items()
        ]
        await upsert(session, self.t.projection_tracking, rows, ["projection", "topic", "partition"])

    async def _load_versions(self, session: AsyncSession | AsyncConnection, keys: set[str]) -> dict[str, int]:
        if not keys:
            return {}
        out: dict[str, int] = {}
        key_list = list(keys)
        for i in range(0, len(key_list), 500):
            params = {"projection": self.name, "stream_ids": key_list[i : i + 500]}
            rows = await session.execute(self._versions, params)
            out.update({r.stream_id: r.version for r in rows})
        return out

    async def _load_generation(self) -> int:
        t = self.t.projection_generations
        async with self.db.session() as s:
            return (await s.execute(select(t.c.generation).where(t.c.projection == self.name))).scalar() or 0

    # read-your-writes and status ------------------------------------------------

    async def stream_version(self, stream_key: str, conn: AsyncConnection | None = None) -> int:
        """The version of a stream this projection has applied (0: none); on `conn` if given."""
        if conn is None:
            async with self.db.engine.connect() as c:
                return await self.stream_version(stream_key, c)
        params = {"projection": self.name, "stream_id": stream_key}
        return (await conn.execute(self._stream_version, params)).scalar() or 0

    async def reached(self, stream_key: str, version: int, conn: AsyncConnection | None = None) -> bool:
        return self._recent.get(stream_key, 0) >= version or await self.stream_version(stream_key, conn) >= version

    async def wait_for_stream(self, stream_key: str, version: int, timeout: float, *, checked: bool = False) -> bool:
        """Wait until this projection has applied `version` of a stream; False on timeout.

        A runner wakes its waiters as it commits. When another process applies the
        projection (a projection worker), one task per runner polls the database
        for every waiting stream at once, every 10 ms while anyone waits; here it
        polls once a second, in case another replica applied the event. `checked`:
        the caller has just read the applied version from the database.
        """
        if not checked and await self.reached(stream_key, version):
            return True
        if self._recent.get(stream_key, 0) >= version:  # committed here while the caller looked
            return True
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (version, future)
        self._waiters.setdefault(stream_key, []).append(entry)
        if self._poller is None or self._poller.done():
            self._poller = loop.create_task(self._poll_waiters(), name=f"projection-{self.name}-waiters")
        try:
            done, _ = await asyncio.wait({future}, timeout=timeout)
            return bool(done)
        finally:
            waiting = self._waiters.get(stream_key, [])
            if entry in waiting:
                waiting.remove(entry)
            if not waiting:
                self._waiters.pop(stream_key, None)

    async def _poll_waiters(self) -> None:
        """Wake readers from the versions in the database, one query for all of them."""
        while self._waiters:
            await asyncio.sleep(1.0 if self.broker is not None else self.remote_poll_interval)
            keys = set(self._waiters)
            if not keys:
                return
            try:
                async with self.db.engine.connect() as conn:  # a Core connection: no ORM session per poll
                    versions = await self._load_versions(conn, keys)
            except Exception:  # the database is briefly unavailable: readers time out instead
                log.warning("projection %s: polling applied versions failed", self.name, exc_info=True)
                continue
            for key, version in versions.items():
                self._wake(key, version)

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
        t = self.t.projection_tracking
        async with self.db.session() as s:
            rows = await s.execute(select(t.c.topic, t.c.partition, t.c.offset).where(t.c.projection == self.name))
            return {(r.topic, r.partition): r.offset for r in rows}

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
        self._recent.clear()
        return new

    async def rebuild(self) -> None:
        """Replay in place from the topics (they must hold the whole history)."""
        await self.stop()
        await self.reset()
        await self.start()

    async def swapped(self) -> None:
        """A rebuilt read model replaced this one's tables: wake readers it satisfies."""
        keys = set(self._waiters)
        if not keys:
            return
        async with self.db.engine.connect() as conn:
            versions = await self._load_versions(conn, keys)
        for key, version in versions.items():
            self._note_applied(key, version)
