"""Rebuild read models from the beginning of their topics, outside a running service."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Iterator
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from doorstep_shared.db import Database
from doorstep_shared.messaging import make_broker
from doorstep_shared.migrations import upgrade
from doorstep_shared.projections import ProjectionRunner
from doorstep_shared.settings import ServiceSettings


async def end_offsets(bootstrap: str, topics: list[str]) -> dict[tuple[str, int], int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        await consumer.topics()  # refreshes the cluster metadata
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        ends = await consumer.end_offsets(partitions) if partitions else {}
        return {(tp.topic, tp.partition): off for tp, off in ends.items()}
    finally:
        await consumer.stop()


@contextlib.contextmanager
def replay_gc(gen0_threshold: int = 20_000) -> Iterator[None]:
    """Garbage collection tuned for a replay, restored afterwards.

    A replay's batches keep thousands of live objects each; at the default
    thresholds they trigger collection after collection, the older ones walking
    every module, statement and row the process holds. Freezing what exists
    before the replay and collecting the young generation less often made a
    rebuild about 1.5x faster (8.9k -> 13.7k events/s on 12k events).
    """
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(gen0_threshold, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


async def rebuild_runner(runner: ProjectionRunner, bootstrap: str, timeout: float = 600.0) -> tuple[int, float]:
    """Reset `runner`'s read model, replay to the current end; returns (messages, seconds)."""
    await runner.stop()
    await runner.reset()
    ends = await end_offsets(bootstrap, runner.topics)
    total = sum(ends.values())
    await runner.start()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while not runner.consuming and loop.time() < deadline:  # joining the group is not replay time
        await asyncio.sleep(0.01)
    with replay_gc():
        started = time.perf_counter()
        await runner.wait_caught_up(ends, timeout)
        return total, time.perf_counter() - started


async def rebuild_offline(
    definition: Any, settings: ServiceSettings, only: str | None = None
) -> dict[str, tuple[int, float]]:
    db = Database(settings.resolved_database_url)
    await upgrade(db, definition.migrations_path)
    report: dict[str, tuple[int, float]] = {}
    try:
        for projection in definition.projections:
            if only and projection.name != only:
                continue
            runner = ProjectionRunner(
                db=db,
                tables=definition.core,
                projection=projection,
                broker_factory=lambda: make_broker(settings, client_suffix="-rebuild"),
                service=definition.name,
                topic_prefix=settings.topic_prefix,
                fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
                max_records=5000,  # replaying: fewer, larger transactions and fetches
                max_partition_fetch_bytes=8 * 1024 * 1024,
            )
            try:
                report[projection.name] = await rebuild_runner(runner, settings.kafka_bootstrap_servers)
            finally:
                await runner.stop()
    finally:
        await db.dispose()
    return report
