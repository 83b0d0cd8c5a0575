"""A projection's partitions against a broker that lost what it held.

A broker restarted empty (the embedded one keeps topics in memory) or a topic
recreated numbers its offsets from 0 again. Most of that the client handles: a
consumer whose position lies beyond a partition's new end is reset to its
beginning, and a restarted broker has forgotten the consumer group, whose members
then join again with no committed offsets and start from the beginning too. What
remains is a partition that is empty now although records were read from it: it
is read from its start once the relay republishes into it, and stream versions
drop the repeats. (The embedded broker reports a partition's end offset by record
batch, short of the truth, so only an end of 0 is certain evidence on it.) The
check runs on every assignment and every few seconds; each round also makes the
projection's topics again if the broker lost them, since a consumer cannot commit
offsets of a topic the broker no longer has and waits until it exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from sqlalchemy import delete

from doorstep_shared.db import Database
from doorstep_shared.eventstore import CoreTables
from doorstep_shared.metrics import PROJECTION_REWINDS

log = logging.getLogger("doorstep.projections")


class PartitionWatch(ConsumerRebalanceListener):
    def __init__(
        self,
        *,
        db: Database,
        tables: CoreTables,
        service: str,
        projection: str,
        consumer: Callable[[], Any],
        tracked_offsets: Callable[[], Awaitable[dict[tuple[str, int], int]]],
        ensure_topics: Callable[[], Awaitable[None]] | None = None,
        interval: float = 5.0,
    ) -> None:
        self.db = db
        self.t = tables
        self.service = service
        self.projection = projection
        self.consumer = consumer  # the projection's current consumer, or None
        self.tracked_offsets = tracked_offsets
        self.ensure_topics = ensure_topics
        self.interval = interval
        self.rewinds = 0
        self._task: asyncio.Task[None] | None = None

    # rebalance listener: checked before the new assignment is consumed
    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        try:
            await self.rewind_lost(assigned)
        except Exception as exc:  # the periodic check tries again
            log.warning("projection %s: checking assigned partitions failed: %s", self.projection, exc)

    async def rewind_lost(self, partitions: Iterable[TopicPartition] | None = None) -> int:
        """Read again from its start every partition that is empty though records were read
        from it; returns how many were."""
        consumer = self.consumer()
        if consumer is None:
            return 0
        assigned = set(consumer.assignment()) if partitions is None else set(partitions)
        if not assigned:
            return 0
        stored = await self.tracked_offsets()
        ends = await consumer.end_offsets(list(assigned))
        rewound = 0
        for tp in sorted(assigned):
            applied = stored.get((tp.topic, tp.partition), -1)
            if ends.get(tp) == 0 and applied >= 0:
                log.warning(
                    "projection %s: %s[%d] is empty, %d records were read from it: reading it from the start",
                    self.projection,
                    tp.topic,
                    tp.partition,
                    applied + 1,
                )
                await consumer.seek_to_beginning(tp)
                await self._forget_offset(tp)
                rewound += 1
        if rewound:
            self.rewinds += rewound
            PROJECTION_REWINDS.labels(self.service, self.projection).inc(rewound)
        return rewound

    async def _forget_offset(self, tp: TopicPartition) -> None:
        t = self.t.projection_tracking
        async with self.db.transaction() as s:
            await s.execute(
                delete(t).where(t.c.projection == self.projection, t.c.topic == tp.topic, t.c.partition == tp.partition)
            )

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"projection-{self.projection}-watch")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                if self.ensure_topics is not None:  # a topic the broker lost blocks offset commits
                    await self.ensure_topics()
                await self.rewind_lost()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker is away: the next round looks again
                log.debug("projection %s: broker check failed: %s", self.projection, exc)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
