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
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select

from doorstep_shared.db import Database
from doorstep_shared.domain import Conflict
from doorstep_shared.eventstore import EventStore
from doorstep_shared.projections import Projection, ProjectionRunner
from doorstep_shared.replay import Progress, ShadowRunner, log_envelopes, topic_offsets, tracked_versions
from doorstep_shared.shadow import Shadow

EVENT_LOG, KAFKA, BOTH = "event log", "Kafka", "event log and Kafka"
LiveHook = Callable[[], Awaitable[None]]


class RebuildRefused(Conflict):
    """The history at hand cannot give back the whole read model; nothing was changed."""

    title = "Rebuild refused"


def split_topics(service: str, projection: Projection) -> tuple[list[str], list[str]]:
    """(own, foreign): the topics the service's event log holds, and the others."""
    own = [t for t in projection.topics if t.startswith(f"{service}.")]
    return own, [t for t in projection.topics if t not in own]


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
        runner: ShadowRunner | None = None
        try:
            await self.check()
            progress.state = "replaying"
            db = await self.shadow.create()
            runner = ShadowRunner(
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

    async def _replay_log(self, runner: ShadowRunner, after: int) -> int:
        """Apply the log's events of the own topics after `after`; returns the last position read."""
        if not self.own:
            return after
        types = {topic.split(".", 1)[1] for topic in self.own}
        tracked = tracked_versions(
            self.store.t.events,
            self.live.t.projection_streams,
            self.name,
            self.service,
            runner.db.engine.dialect.name,
            sorted(types),
        )
        position = after
        while True:
            async with self.db.session() as s:
                rows = await self.store.read_rows_after(s, position, self.log_batch)
            if not rows:
                return position
            bounds = {"after": position, "upto": rows[-1][0]}
            position = rows[-1][0]
            envelopes = log_envelopes(self.store, self.service, rows, types)
            if envelopes:
                await runner.apply_log(envelopes, tracked, bounds)

    async def _kafka_ends(self) -> dict[tuple[str, int], int]:
        _, ends = await topic_offsets(self.bootstrap, self._prefixed(self.foreign))
        return ends
