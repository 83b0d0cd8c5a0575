"""Rebuild a read model beside the live one, from the service's event log or from Kafka.

The event log is the only complete history a service is sure to have: a broker
restarted empty (the embedded one keeps topics in memory) or a topic past its
retention has lost the oldest events, and replaying what is left would give a
read model missing rows. So a projection that reads only its own service's
topics is replayed from the log, in position order: no broker is needed, and
it is fast, since the log holds every stream's versions once and contiguous
(nothing to look up or skip per event; the versions reached are derived from
the log with one statement per batch). A projection that reads other services' topics can only
replay those from Kafka; before anything is changed, and while replaying, the
topics are checked to still hold the whole history (every partition begins at
offset 0, nothing applied before is missing, every stream starts at version 1
with no gap); otherwise the rebuild is refused (`RebuildRefused`, a 409). A
projection reading both replays its own topics from the log, then the others
from Kafka, in a new consumer group the live runner moves to.

The new read model is built in a `Shadow` while the live runner keeps applying
to the old one; at the end the live runner is stopped, the shadow catches up to
the log's end and to Kafka's current end offsets, the shadow is swapped in, and
the live runner starts again (stream versions skip what the shadow applied).
A replay from the log alone does not stop the live runner: its writers are held
off (`Shadow.writers_held`) while the shadow catches up to the log's end and is
swapped in, which spares a consumer group rejoin (seconds of stale reads).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import Table, bindparam, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from doorstep_shared.db import Database, deferred_upserts
from doorstep_shared.domain import Conflict
from doorstep_shared.eventstore import EventStore, decoded
from doorstep_shared.messaging import Envelope, topic_name
from doorstep_shared.projections import Projection, ProjectionRunner
from doorstep_shared.shadow import Shadow

EVENT_LOG, KAFKA, BOTH = "event log", "Kafka", "event log and Kafka"
LiveHook = Callable[[], Awaitable[None]]


class RebuildRefused(Conflict):
    """The history at hand cannot give back the whole read model; nothing was changed."""

    title = "Rebuild refused"


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


def split_topics(service: str, projection: Projection) -> tuple[list[str], list[str]]:
    """(own, foreign): the topics the service's event log holds, and the others."""
    own = [t for t in projection.topics if t.startswith(f"{service}.")]
    return own, [t for t in projection.topics if t not in own]


class _ShadowRunner(ProjectionRunner):
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
            async with deferred_upserts(session):
                await self.projection.start_batch(session, envelopes)
                for env in envelopes:
                    await self.projection.apply(session, env)
                await self.projection.end_batch(session)
            await session.execute(tracked, bounds)
        self.progress.events += len(envelopes)
        self.progress.tick()
        self.on_progress(self.progress)

    async def held_back(self) -> int:
        """Streams whose highest version seen was not applied: their history has a hole."""
        async with self.db.session() as s:
            applied = await self.applied.load(s, set(self.seen))
        return sum(1 for key, version in self.seen.items() if applied.get(key, 0) < version)


class Rebuild:
    """One projection's blue/green rebuild."""

    def __init__(
        self,
        runner: ProjectionRunner,
        store: EventStore,
        *,
        bootstrap: str,
        broker_factory: Callable[[], Any],
        from_kafka: bool = False,
        log_batch: int = 10000,
        partitions: int = 3,
        kafka_timeout: float = 600.0,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.live = runner
        self.store = store
        self.db: Database = runner.db
        self.service = runner.service
        self.projection = runner.projection
        self.bootstrap = bootstrap
        self.broker_factory = broker_factory
        self.log_batch = log_batch
        self.partitions = partitions  # per topic, as created; with those applied from, what to lock
        self.kafka_timeout = kafka_timeout
        self.on_progress = on_progress or (lambda p: None)
        if not self.projection.tables:
            raise RebuildRefused(
                f"projection {runner.name} keeps no read model: it reacts to events with commands, "
                "and replaying it would repeat them",
                field="name",
            )
        self.own, self.foreign = split_topics(self.service, self.projection)
        if from_kafka:  # the bench compares both sources on the same projection
            self.own, self.foreign = [], list(self.projection.topics)
        source = BOTH if self.own and self.foreign else (EVENT_LOG if self.own else KAFKA)
        self.progress = Progress(runner.name, source)
        self.shadow = Shadow(
            self.db,
            runner.t,
            runner.name,
            self.projection.tables,
            secondary_indexes=not self.projection.key_lookups_only,
        )

    @property
    def name(self) -> str:
        return self.live.name

    def _prefixed(self, topics: list[str]) -> list[str]:
        return [f"{self.live.topic_prefix}{t}" for t in topics]

    # the history check -----------------------------------------------------------------

    async def check(self) -> None:
        """Refuse before anything is changed if Kafka no longer holds the foreign topics' history."""
        if not self.foreign:
            return
        topics = self._prefixed(self.foreign)
        try:
            begins, ends = await topic_offsets(self.bootstrap, topics)
        except Exception as exc:
            raise RebuildRefused(
                f"projection {self.name} reads other services' topics and Kafka at {self.bootstrap} "
                f"cannot be read ({type(exc).__name__}: {exc})",
                field="name",
            ) from exc
        problems = [f"{t}[{p}] begins at offset {o}, not 0" for (t, p), o in sorted(begins.items()) if o > 0]
        applied = await self.live.tracked_offsets()
        for (topic, partition), offset in sorted(applied.items()):
            if topic not in topics:
                continue
            end = ends.get((topic, partition))
            if end is None:
                problems.append(f"{topic}[{partition}] is gone, {offset + 1} records were applied from it")
            elif end <= offset:
                problems.append(f"{topic}[{partition}] holds {end} records, {offset + 1} were applied from it")
        for service, count in (await self._streams_by_service()).items():
            held = sum(end for (t, _), end in ends.items() if t.startswith(f"{self.live.topic_prefix}{service}."))
            if count and not held and service != self.service:
                problems.append(f"{count} streams of {service} were applied, its topics hold nothing")
        if problems:
            raise RebuildRefused(
                f"projection {self.name}: Kafka no longer holds the whole history ({'; '.join(problems)}); "
                "the read model was left as it is",
                field="name",
            )

    async def _streams_by_service(self) -> dict[str, int]:
        t = self.live.t.projection_streams
        services = {topic.split(".", 1)[0] for topic in self.foreign}
        out: dict[str, int] = {}
        async with self.db.session() as s:
            for service in services:
                stmt = select(func.count()).where(t.c.projection == self.name, t.c.stream_id.like(f"{service}:%"))
                out[service] = (await s.execute(stmt)).scalar() or 0
        return out

    # the replay ---------------------------------------------------------------------------

    async def run(self, *, stop_live: LiveHook | None = None, start_live: LiveHook | None = None) -> Progress:
        """Build the shadow, catch up with the live runner stopped, swap; the live runner
        starts again whatever happens. Raises RebuildRefused on a hole in the history."""
        progress = self.progress
        progress.started = time.perf_counter()
        stopped = False
        generation = await self.live._load_generation() + 1
        runner: _ShadowRunner | None = None
        try:
            await self.check()
            progress.state = "replaying"
            db = await self.shadow.create()
            runner = _ShadowRunner(
                generation=generation,
                progress=progress,
                on_progress=self.on_progress,
                db=db,
                tables=self.live.t,
                projection=self.projection.with_topics(self.foreign),
                broker_factory=self.broker_factory,
                service=self.service,
                topic_prefix=self.live.topic_prefix,
                max_records=5000,  # replaying: fewer, larger transactions and fetches
                max_partition_fetch_bytes=8 * 1024 * 1024,
            )
            progress.total = await self._log_total()
            position = await self._replay_log(runner, 0)
            ends: dict[tuple[str, int], int] = {}
            if self.foreign:
                ends = await self._kafka_ends()
                progress.total += sum(ends.values())
                await runner.start()
                await runner.wait_caught_up(ends, self.kafka_timeout)
            if self.foreign:  # the live runner moves to the shadow's consumer group
                if stop_live is not None:
                    await stop_live()
                    stopped = True
                ends = await self._kafka_ends()
                await runner.wait_caught_up(ends, self.kafka_timeout)
                await runner.stop()
                holes = await runner.held_back()
                if holes:
                    raise RebuildRefused(
                        f"projection {self.name}: {holes} streams miss earlier versions in Kafka "
                        "(the topics no longer hold the whole history); the read model was left as it is",
                        field="name",
                    )
            async with self.shadow.writers_held(await self._lock_keys()) as held:
                progress.total += await self._log_total(after=position)
                await self._replay_log(runner, position)
                progress.state = "swapping"
                await self.shadow.swap(
                    held, tracking=bool(self.foreign), generation=generation if self.foreign else None
                )
            if self.foreign:
                self.live.generation = generation
            async with self.db.transaction() as session:
                await self.projection.rebuilt(session)
            await self.live.swapped()
            progress.state = "done"
        except RebuildRefused as exc:
            progress.state, progress.error = "refused", exc.detail
            raise
        except BaseException as exc:
            progress.state, progress.error = "failed", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            progress.tick()
            if runner is not None:
                with contextlib.suppress(Exception):
                    await runner.stop()
            with contextlib.suppress(Exception):
                await self.shadow.drop()
            if stopped and start_live is not None:
                await start_live()
        self.on_progress(progress)
        return progress

    async def _lock_keys(self) -> list[int]:
        """The advisory lock keys of every partition the live runner may apply from, in its order."""
        partitions = {(t, p) for t in self.live.topics for p in range(self.partitions)}
        partitions |= set(await self.live.tracked_offsets())
        consumer = getattr(self.live._subscriber, "consumer", None)
        with contextlib.suppress(Exception):
            partitions |= {(tp.topic, tp.partition) for tp in consumer.assignment()} if consumer else set()
        return [self.live.lock_key(t, p) for t, p in sorted(partitions)]

    async def _log_total(self, after: int = 0) -> int:
        if not self.own:
            return 0
        t = self.store.t.events
        types = [topic.split(".", 1)[1] for topic in self.own]
        stmt = select(func.count()).where(t.c.position > after, t.c.stream_type.in_(types))
        async with self.db.session() as s:
            return (await s.execute(stmt)).scalar() or 0

    async def _replay_log(self, runner: _ShadowRunner, after: int) -> int:
        """Apply the log's events of the own topics after `after`; returns the last position read."""
        if not self.own:
            return after
        types = {topic.split(".", 1)[1] for topic in self.own}
        tracked = self._tracked_statement(runner.db.engine.dialect.name, sorted(types))
        position = after
        while True:
            async with self.db.session() as s:
                rows = await self.store.read_rows_after(s, position, self.log_batch)
            if not rows:
                return position
            bounds = {"after": position, "upto": rows[-1][0]}
            position = rows[-1][0]
            envelopes = self._envelopes(rows, types)
            if envelopes:
                await runner.apply_log(envelopes, tracked, bounds)

    def _envelopes(self, rows: Sequence[Any], types: set[str]) -> list[Envelope]:
        """The envelopes a consumer of the own topics would have received for these log rows
        (data upcast to the current schema), built in one pass."""
        service, store = self.service, self.store
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

    def _tracked_statement(self, dialect: str, types: list[str]) -> Any:
        """Upsert of the projection's stream versions reached by the log's positions
        in (after, upto]: per stream of the own topics, its highest version there."""
        events, streams = self.store.t.events, self.live.t.projection_streams
        reached = (
            select(
                literal(self.name, streams.c.projection.type),
                literal(f"{self.service}:", streams.c.stream_id.type) + events.c.stream_id,
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

    async def _kafka_ends(self) -> dict[tuple[str, int], int]:
        _, ends = await topic_offsets(self.bootstrap, self._prefixed(self.foreign))
        return ends


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
