"""The event log is the outbox: the relay publishes new events to Kafka in order.

A command's transaction writes only events; this relay reads them after the
stored checkpoint, publishes a batch without waiting per message, waits for all
acks, and only then advances the checkpoint. A broker outage stops it with
back-off; on return it resumes from the checkpoint, so nothing is lost. An ack
lost in flight can republish a batch: consumers drop such repeats by stream
version (at-least-once delivery, effectively-once application).

A broker can also lose what it acknowledged: the embedded one keeps topics in
memory, and Kafka drops a deleted topic or records past their retention. The
relay records, per partition, the first offset acknowledged in its latest batch;
when a publish lands at or below it, or the broker's end offset falls to it or
below (checked every few seconds and after every reconnection), the broker has
lost records (the mark is the batch's first offset, not its last, because the
embedded broker reports its end offset by record batch), and the
relay publishes that topic's events again from the start of the log, in order,
before going on. Each such republish starts a new relay epoch, stamped on every
record (`ce_relayepoch`): a consumer that meets a newer epoch part-way through a
partition may have started reading after the start of the republished history,
and reads the partition again from its beginning. Only the holder of the service's relay lease publishes, so two
workers of one service never interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Collection
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream.kafka import KafkaBroker
from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from doorstep_shared.db import Database
from doorstep_shared.domain import utcnow
from doorstep_shared.eventstore import CoreTables, EventStore, StoredEvent
from doorstep_shared.lease import Lease
from doorstep_shared.messaging import TopicEnsurer, encode_data, event_headers, topic_name
from doorstep_shared.metrics import RELAY_ERRORS, RELAY_LAG, RELAY_PUBLISHED, RELAY_REPUBLISHES
from doorstep_shared.writes import upsert

log = logging.getLogger("doorstep.relay")

Partition = tuple[str, int]


def epoch_row(relay: str) -> str:
    """The checkpoint row that keeps the relay's epoch (how many times it republished)."""
    return f"{relay}:epoch"


def republish_request(relay: str) -> str:
    """The checkpoint row through which an operator asks a relay to republish (`doorstep republish`)."""
    return f"{relay}:republish-from"


async def request_republish(db: Database, tables: CoreTables, from_position: int = 1, relay: str = "kafka") -> None:
    """Ask the service's relay to publish every event from `from_position` again.

    A running relay takes the request up at its next check against the broker
    (every few seconds); a stopped one when it starts.
    """
    row = {"name": republish_request(relay), "position": max(1, from_position), "updated_at": utcnow()}
    async with db.transaction() as s:
        await upsert(s, tables.relay_checkpoints, [row], ["name"])


class OutboxRelay:
    def __init__(
        self,
        *,
        db: Database,
        store: EventStore,
        broker: KafkaBroker,
        service: str,
        topic_prefix: str = "",
        batch_size: int = 500,
        poll_interval: float = 0.2,
        max_backoff: float = 5.0,
        name: str = "kafka",
        topics: TopicEnsurer | None = None,
        bootstrap_servers: str | None = None,
        verify_interval: float = 5.0,
        lease_ttl: float = 10.0,
    ) -> None:
        self.db = db
        self.store = store
        self.t: CoreTables = store.t
        self.broker = broker
        self.service = service
        self.topic_prefix = topic_prefix
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.name = name
        self.topics = topics
        # where to ask for end offsets; without it only the acknowledged offsets reveal a loss
        self.bootstrap_servers = bootstrap_servers or (topics.bootstrap_servers if topics else None)
        self.verify_interval = verify_interval
        self.lease = Lease(db, self.t.leases, f"relay:{service}:{name}", ttl=lease_ttl)
        self._wake = asyncio.Event()
        self._connected = False
        self._checkpoint: int | None = None  # this relay is its checkpoint's only writer
        # per partition, the first offset the broker acknowledged in the latest batch (None: not loaded)
        self._offsets: dict[Partition, int] | None = None
        # republishing after a loss: only these topics, until this position
        self._republish: tuple[frozenset[str], int] | None = None
        self._verified_at = 0.0  # monotonic time of the last check against the broker
        self.epoch = 0
        self._probe: AIOKafkaConsumer | None = None
        table = self.t.relay_checkpoints
        self._advance = (
            table.update()
            .where(table.c.name == bindparam("relay"))
            .values(position=bindparam("position"), updated_at=bindparam("now"))
        )
        self.last_error: str | None = None
        self.republishes = 0

    def notify(self) -> None:
        """Called after a command commits so the relay publishes without waiting a poll."""
        self._wake.set()

    def topic_for(self, event: StoredEvent) -> str:
        return topic_name(self.service, event.stream_type, self.topic_prefix)

    async def checkpoint(self) -> int:
        return await self._position_of(self.name) or 0

    async def _position_of(self, row: str) -> int | None:
        async with self.db.session() as s:
            stmt = select(self.t.relay_checkpoints.c.position).where(self.t.relay_checkpoints.c.name == row)
            value = (await s.execute(stmt)).scalar()
            return None if value is None else int(value)

    async def _save_checkpoint(self, position: int, offsets: dict[Partition, int] | None = None) -> None:
        """Advance the checkpoint, with the offsets the broker acknowledged, in one transaction."""
        async with self.db.transaction() as s:
            await self._write_checkpoint(s, position)
            if offsets:
                rows = [{"relay": self.name, "topic": t, "partition": p, "offset": o} for (t, p), o in offsets.items()]
                await upsert(s, self.t.relay_offsets, rows, ["relay", "topic", "partition"])

    async def _write_checkpoint(self, s: AsyncSession, position: int) -> None:
        updated = await s.execute(self._advance, {"relay": self.name, "position": position, "now": utcnow()})
        if updated.rowcount == 0:  # type: ignore[attr-defined]
            await s.execute(
                self.t.relay_checkpoints.insert().values(name=self.name, position=position, updated_at=utcnow())
            )

    async def _load_offsets(self) -> dict[Partition, int]:
        t = self.t.relay_offsets
        async with self.db.session() as s:
            rows = await s.execute(select(t.c.topic, t.c.partition, t.c.offset).where(t.c.relay == self.name))
            return {(r.topic, r.partition): r.offset for r in rows}

    async def _ensure_connected(self) -> None:
        if not self._connected:
            await self.broker.connect()
            self._connected = True

    async def run_once(self) -> int:
        """Publish the next batch; returns how many events went out (or were passed over)."""
        await self._ensure_connected()
        if self._checkpoint is None:
            self._checkpoint = await self.checkpoint()
        if self._offsets is None:
            self._offsets = await self._load_offsets()
            self.epoch = await self._position_of(epoch_row(self.name)) or 0
            self._verified_at = 0.0  # a fresh start: compare with the broker before publishing
        if time.monotonic() - self._verified_at >= self.verify_interval:
            await self.verify()
        after = self._checkpoint
        async with self.db.session() as s:
            batch = await self.store.read_after(s, after, self.batch_size)
            # a short batch reached the log's end; only a full one needs the end looked up
            last = await self.store.last_position(s) if len(batch) == self.batch_size else None
        if not batch:
            RELAY_LAG.labels(self.service).set(0)
            return 0
        todo = batch
        if self._republish is not None:
            topics, until = self._republish
            todo = [e for e in batch if e.position > until or self.topic_for(e) in topics]
        if todo and self.topics is not None:
            await self.topics.ensure({self.topic_for(e) for e in todo})
        futures: list[asyncio.Future[Any]] = []
        for event in todo:
            event = self.store.upcast_stored(event)
            fut = await self.broker.publish(
                encode_data(event.data),
                self.topic_for(event),
                key=event.stream_id.encode(),
                headers=event_headers(self.service, event, self.epoch),
                correlation_id=str(event.meta.get("correlation_id") or event.event_id),
                no_confirm=True,
            )
            futures.append(fut)
        acks = await asyncio.gather(*futures)
        offsets = self._first_acknowledged(acks)
        went_back = {tp for tp, first in offsets.items() if first <= self._offsets.get(tp, -1)}
        await self._save_checkpoint(batch[-1].position, offsets)
        self._checkpoint = batch[-1].position
        self._offsets.update(offsets)
        if self._republish is not None and self._checkpoint >= self._republish[1]:
            log.info("relay %s: republished what the broker lost", self.service)
            self._republish = None
        if went_back:  # these records landed where earlier ones had been: the broker lost them
            await self._rewind({t for t, _ in went_back}, "acknowledged offsets went back")
        RELAY_PUBLISHED.labels(self.service).inc(len(todo))
        RELAY_LAG.labels(self.service).set(max(0, (last or 0) - batch[-1].position))
        return len(batch)

    @staticmethod
    def _first_acknowledged(acks: list[Any]) -> dict[Partition, int]:
        """The first offset the broker acknowledged on each partition of a batch."""
        out: dict[Partition, int] = {}
        for ack in acks:
            offset = getattr(ack, "offset", None)
            if offset is None or offset < 0:
                continue
            tp = (ack.topic, ack.partition)
            out[tp] = min(offset, out.get(tp, offset))
        return out

    async def verify(self) -> None:
        """Compare what the broker holds with what it acknowledged; republish what it lost.

        Also takes up an operator's request to republish (`doorstep republish`).
        """
        self._verified_at = time.monotonic()
        await self._take_republish_request()
        if not self._offsets or self.bootstrap_servers is None:
            return
        ends = await self._end_offsets(sorted({t for t, _ in self._offsets}))
        lost = {t for (t, p), offset in self._offsets.items() if ends.get((t, p), 0) <= offset}
        if lost:
            await self._rewind(lost, "the broker holds fewer records than it acknowledged")

    async def _end_offsets(self, topics: list[str]) -> dict[Partition, int]:
        """End offsets of every partition of `topics` (a topic the broker lacks has none).

        A probe that outlived a broker restart can keep metadata that no longer
        answers; a topic missing from it is looked up again with a fresh probe
        before it counts as gone.
        """
        for attempt in range(2):
            if self._probe is None:
                probe = AIOKafkaConsumer(
                    bootstrap_servers=self.bootstrap_servers, group_id=None, request_timeout_ms=10_000
                )
                await probe.start()
                self._probe = probe
            await self._probe.topics()  # refresh the metadata: a topic may be gone or new
            known = {t: self._probe.partitions_for_topic(t) for t in topics}
            if all(known.values()) or attempt == 1:
                break
            await self._close_probe()
        assert self._probe is not None
        partitions = [TopicPartition(t, p) for t, ps in known.items() for p in ps or ()]
        ends = await self._probe.end_offsets(partitions) if partitions else {}
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}

    async def _rewind(self, topics: set[str], why: str) -> None:
        """Publish `topics` again from the start of the log, up to where the relay is now."""
        assert self._offsets is not None and self._checkpoint is not None
        until = self._checkpoint
        if self._republish is not None:  # a republish under way: widen it
            topics |= self._republish[0]
            until = max(until, self._republish[1])
        self._republish = (frozenset(topics), until)
        self.republishes += 1
        RELAY_REPUBLISHES.labels(self.service).inc()
        log.warning(
            "relay %s: %s on %s; republishing them from the start of the event log (positions 1-%d)",
            self.service,
            why,
            ", ".join(sorted(topics)),
            until,
        )
        for tp in [tp for tp in self._offsets if tp[0] in topics]:
            del self._offsets[tp]
        # the new epoch, the forgotten offsets and the rewound checkpoint are stored together:
        # a relay that dies at any point either republishes from the start or had not begun to
        await self._restart_from(0, forget=topics)

    async def _take_republish_request(self) -> None:
        request = republish_request(self.name)
        wanted = await self._position_of(request)
        if wanted is None:
            return
        from_position = max(0, wanted - 1)
        log.warning("relay %s: republishing every event from position %d, as asked", self.service, from_position + 1)
        current = self._checkpoint if self._checkpoint is not None else from_position
        await self._restart_from(min(from_position, current), done_request=request)
        self._republish = None

    async def _restart_from(self, position: int, *, forget: Collection[str] = (), done_request: str = "") -> None:
        """Go back to `position` in a new epoch, in one transaction: what is published from
        now on belongs to the new epoch, and consumers that meet it part-way through a
        partition read that partition again from its beginning."""
        self.epoch += 1
        epoch = {"name": epoch_row(self.name), "position": self.epoch, "updated_at": utcnow()}
        checkpoints, offsets = self.t.relay_checkpoints, self.t.relay_offsets
        async with self.db.transaction() as s:
            await upsert(s, checkpoints, [epoch], ["name"])
            if forget:
                await s.execute(
                    delete(offsets).where(offsets.c.relay == self.name, offsets.c.topic.in_(sorted(forget)))
                )
            if done_request:
                await s.execute(delete(checkpoints).where(checkpoints.c.name == done_request))
            await self._write_checkpoint(s, position)
        self._checkpoint = position

    async def run(self) -> None:
        backoff = 0.1
        try:
            while True:
                try:
                    if self.lease.due() and not await self.lease.acquire():
                        self._checkpoint = None  # another worker publishes; reread when taking over
                        self._offsets = None
                        await asyncio.sleep(self.lease.ttl.total_seconds() / 4)
                        continue
                    sent = await self.run_once() if self.lease.held else 0
                    self.last_error = None
                    backoff = 0.1
                    if sent < self.batch_size:
                        self._wake.clear()
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(self.poll_interval):
                                await self._wake.wait()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # broker down, database busy: back off and retry
                    RELAY_ERRORS.labels(self.service).inc()
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    log.warning("relay paused, retrying in %.1fs: %s", backoff, self.last_error)
                    await self._reset_connection()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.max_backoff)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.lease.release())

    async def _reset_connection(self) -> None:
        self._checkpoint = None  # reread: the failed batch may or may not have been recorded
        self._verified_at = 0.0  # and look at what the broker holds before going on
        if self.topics is not None:
            with contextlib.suppress(Exception):
                await self.topics.close()
        await self._close_probe()
        try:  # also after a failed connect: it may have left a producer behind
            await self.broker.stop()
        except Exception:  # pragma: no cover - best effort
            log.debug("broker stop failed", exc_info=True)
        self._connected = False

    async def _close_probe(self) -> None:
        if self._probe is not None:
            probe, self._probe = self._probe, None
            with contextlib.suppress(Exception):
                await probe.stop()

    async def close(self) -> None:
        """Stop the producer and the probe (a stopping service)."""
        await self._close_probe()
        with contextlib.suppress(Exception):
            await self.broker.stop()
        self._connected = False

    async def drain(self, timeout: float = 10.0) -> None:
        """Publish until the checkpoint reaches the log's end (tests, shutdown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            async with self.db.session() as s:
                last = await self.store.last_position(s)
            if await self.checkpoint() >= last:
                return
            if loop.time() > deadline:
                raise TimeoutError("relay did not drain in time")
            self.notify()
            await asyncio.sleep(0.02)
