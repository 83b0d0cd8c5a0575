"""Two workers of one service at once: one relay publishes, projections share the work."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from doorstep_shared.db import Database
from doorstep_shared.eventstore import EventStore
from doorstep_shared.messaging import Envelope, TopicEnsurer
from doorstep_shared.projections import Projection, ProjectionRunner
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.helpers import eventually
from tests.integration.core.test_broker_loss import make_relay, make_runner, running
from tests.integration.core.test_relay_projection import bump, read_topic, values
from tests.toy import CounterIncremented, CounterOpened, core, counters, registry


async def test_two_projection_workers_share_partitions_and_apply_each_event_once(
    db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    store = EventStore(core, registry)
    relay = make_relay(db, store, kafka_bootstrap, topic_prefix)
    relay.topics = TopicEnsurer(kafka_bootstrap, 3, 1)  # three partitions to share
    ids = [f"k{i}" for i in range(12)]
    first, second = make_runner(db, kafka_bootstrap, topic_prefix), make_runner(db, kafka_bootstrap, topic_prefix)
    async with running(relay):
        for cid in ids:
            await bump(db, store, cid, open_first=True)
        await first.start()
        await second.start()  # joins the same consumer group: partitions move between them
        try:
            for round_ in range(5):
                for cid in ids:
                    await bump(db, store, cid, 1)
                if round_ == 2:
                    await first.stop()  # one worker goes away mid-way; the other takes its partitions
            await eventually(lambda: _all_at(db, ids, 5), timeout=90)
            await asyncio.sleep(1.0)
            assert await values(db) == dict.fromkeys(ids, 5)  # none applied twice
        finally:
            await _stop(first, second)


async def test_a_partition_held_by_two_workers_for_a_moment_is_applied_once(
    db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    """While partitions move between workers, both may hold the same records; both apply them at once."""
    store = EventStore(core, registry)
    relay = make_relay(db, store, kafka_bootstrap, topic_prefix)
    await bump(db, store, "p", open_first=True)
    for _ in range(20):
        await bump(db, store, "p", 1)
    await relay.run_once()
    await relay.close()
    records = await read_topic(kafka_bootstrap, f"{topic_prefix}toy.counters", 21)
    other = Database(db.url)  # the second worker: its own connections
    try:
        first = make_runner(db, kafka_bootstrap, topic_prefix)
        second = make_runner(other, kafka_bootstrap, topic_prefix)
        for runner in (first, second):
            runner.projection = _adding_projection()
        for chunk in (records[:5], records[5:12], records[12:]):
            await asyncio.gather(first.apply_records(chunk), second.apply_records(chunk))
    finally:
        await other.dispose()
    assert await values(db) == {"p": 20}


def _adding_projection() -> Projection:
    """Adds in SQL (value = value + by), so an event applied twice shows; pauses before each
    batch, after the applied versions were read, so that two workers' batches overlap."""
    projection = Projection("counters", ["toy.counters"], tables=[counters])

    @projection.before_batch
    async def pause(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        await asyncio.sleep(0.2)

    @projection.on(CounterOpened)
    async def opened(session: AsyncSession, env: Envelope) -> None:
        await session.execute(insert(counters).values(id=env.subject, value=0, label=env.data["label"]))

    @projection.on(CounterIncremented)
    async def incremented(session: AsyncSession, env: Envelope) -> None:
        added = counters.c.value + env.data["by"]
        await session.execute(update(counters).where(counters.c.id == env.subject).values(value=added))

    return projection


async def _stop(*runners: ProjectionRunner) -> None:
    for runner in runners:
        await runner.stop()


async def _all_at(db: Database, ids: list[str], value: int) -> bool:
    return await values(db) == dict.fromkeys(ids, value)
