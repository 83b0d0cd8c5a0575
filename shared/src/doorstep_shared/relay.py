"""The event log is the outbox: the relay publishes new events to Kafka in order.

A command's transaction writes only events; this relay reads them after the
stored checkpoint, publishes a batch without waiting per message, waits for all
acks, and only then advances the checkpoint. A broker outage stops it with
back-off; on return it resumes from the checkpoint, so nothing is lost. An ack
lost in flight can republish a batch: consumers drop such repeats by stream
version (at-least-once delivery, effectively-once application).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from faststream.kafka import KafkaBroker
from sqlalchemy import bindparam, select

from doorstep_shared.db import Database
from doorstep_shared.domain import utcnow
from doorstep_shared.eventstore import CoreTables, EventStore, StoredEvent
from doorstep_shared.messaging import TopicEnsurer, encode_data, event_headers, topic_name
from doorstep_shared.metrics import RELAY_ERRORS, RELAY_LAG, RELAY_PUBLISHED

log = logging.getLogger("doorstep.relay")


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
        self._wake = asyncio.Event()
        self._connected = False
        self._checkpoint: int | None = None  # this relay is its checkpoint's only writer
        table = self.t.relay_checkpoints
        self._advance = (
            table.update()
            .where(table.c.name == bindparam("relay"))
            .values(position=bindparam("position"), updated_at=bindparam("now"))
        )
        self.last_error: str | None = None

    def notify(self) -> None:
        """Called after a command commits so the relay publishes without waiting a poll."""
        self._wake.set()

    def topic_for(self, event: StoredEvent) -> str:
        return topic_name(self.service, event.stream_type, self.topic_prefix)

    async def checkpoint(self) -> int:
        async with self.db.session() as s:
            stmt = select(self.t.relay_checkpoints.c.position).where(self.t.relay_checkpoints.c.name == self.name)
            return (await s.execute(stmt)).scalar() or 0

    async def _save_checkpoint(self, position: int) -> None:
        table = self.t.relay_checkpoints
        async with self.db.transaction() as s:
            updated = await s.execute(self._advance, {"relay": self.name, "position": position, "now": utcnow()})
            if updated.rowcount == 0:  # type: ignore[attr-defined]
                await s.execute(table.insert().values(name=self.name, position=position, updated_at=utcnow()))

    async def _ensure_connected(self) -> None:
        if not self._connected:
            await self.broker.connect()
            self._connected = True

    async def run_once(self) -> int:
        """Publish the next batch; returns how many events went out."""
        await self._ensure_connected()
        if self._checkpoint is None:
            self._checkpoint = await self.checkpoint()
        after = self._checkpoint
        async with self.db.session() as s:
            batch = await self.store.read_after(s, after, self.batch_size)
            # a short batch reached the log's end; only a full one needs the end looked up
            last = await self.store.last_position(s) if len(batch) == self.batch_size else None
        if not batch:
            RELAY_LAG.labels(self.service).set(0)
            return 0
        if self.topics is not None:
            await self.topics.ensure({self.topic_for(e) for e in batch})
        futures: list[asyncio.Future[Any]] = []
        for event in batch:
            event = self.store.upcast_stored(event)
            fut = await self.broker.publish(
                encode_data(event.data),
                self.topic_for(event),
                key=event.stream_id.encode(),
                headers=event_headers(self.service, event),
                correlation_id=str(event.meta.get("correlation_id") or event.event_id),
                no_confirm=True,
            )
            futures.append(fut)
        await asyncio.gather(*futures)
        await self._save_checkpoint(batch[-1].position)
        self._checkpoint = batch[-1].position
        RELAY_PUBLISHED.labels(self.service).inc(len(batch))
        RELAY_LAG.labels(self.service).set(max(0, (last or 0) - batch[-1].position))
        return len(batch)

    async def run(self) -> None:
        backoff = 0.1
        while True:
            try:
                sent = await self.run_once()
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

    async def _reset_connection(self) -> None:
        self._checkpoint = None  # reread: the failed batch may or may not have been recorded
        if self.topics is not None:
            with contextlib.suppress(Exception):
                await self.topics.close()
        if self._connected:
            try:
                await self.broker.stop()
            except Exception:  # pragma: no cover - best effort
                log.debug("broker stop failed", exc_info=True)
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
