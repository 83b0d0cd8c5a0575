"""A broker that loses what it acknowledged: the event log stays the truth.

The embedded broker keeps topics in memory, so a restart loses every record and
numbers offsets from 0 again; Apache Kafka does the same to a recreated topic.
These run the relay and a projection against a real broker that is restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from doorstep_shared.db import Database
from doorstep_shared.embedded import EmbeddedKafka
from doorstep_shared.eventstore import EventStore
from doorstep_shared.messaging import Envelope, TopicEnsurer, make_broker
from doorstep_shared.projections import ProjectionRunner
from doorstep_shared.relay import OutboxRelay, request_republish
from doorstep_shared.settings import ServiceSettings

from tests.helpers import eventually
from tests.integration.core.test_relay_projection import bump, counter_projection, read_topic, values
from tests.toy import core, registry


@pytest.fixture
def broker() -> AsyncIterator[EmbeddedKafka]:
    kafka = EmbeddedKafka().start()
    yield kafka
    kafka.stop()


def make_relay(db: Database, store: EventStore, bootstrap: str, prefix: str, **kwargs: object) -> OutboxRelay:
    settings = ServiceSettings(service_name="toy", KAFKA_BOOTSTRAP_SERVERS=bootstrap)
    return OutboxRelay(
        db=db,
        store=store,
        broker=make_broker(settings),
        service="toy",
        topic_prefix=prefix,
        poll_interval=0.05,
        max_backoff=0.5,
        topics=TopicEnsurer(bootstrap, 1, 1),
        verify_interval=0.5,
        **kwargs,  # type: ignore[arg-type]
    )


def make_runner(db: Database, bootstrap: str, prefix: str) -> ProjectionRunner:
    settings = ServiceSettings(service_name="toy", KAFKA_BOOTSTRAP_SERVERS=bootstrap)
    runner = ProjectionRunner(
        db=db,
        tables=core,
        projection=counter_projection(),
        broker_factory=lambda: make_broker(settings),
        service="toy",
        topic_prefix=prefix,
    )
    runner.watch.interval = 0.5
    return runner


@contextlib.asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(relay.run())
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await relay.close()
        if relay.topics is not None:
            await relay.topics.close()


async def test_commands_after_a_broker_restart_reach_the_read_model(
    db: Database, broker: EmbeddedKafka, topic_prefix: str
) -> None:
    store = EventStore(core, registry)
    relay = make_relay(db, store, broker.bootstrap_servers, topic_prefix)
    runner = make_runner(db, broker.bootstrap_servers, topic_prefix)
    async with running(relay):
        await runner.start()
        try:
            await bump(db, store, "a", open_first=True)
            for _ in range(5):
                await bump(db, store, "a", 1)
            await eventually(lambda: _values_are(db, {"a": 5}), timeout=30)
            broker.stop()
            broker.start()  # same address, empty memory: offsets start at 0 again
            await bump(db, store, "a", 10)
            await bump(db, store, "b", open_first=True)
            await bump(db, store, "b", 7)
            await eventually(lambda: _values_are(db, {"a": 15, "b": 7}), timeout=60)
            await asyncio.sleep(1.5)  # the republished history is repeated, not applied again
            assert await values(db) == {"a": 15, "b": 7}
        finally:
            await runner.stop()
    assert relay.republishes == 1  # and once whole again, the broker is not suspected again


async def test_what_the_broker_lost_before_anyone_read_it_is_republished(
    db: Database, broker: EmbeddedKafka, topic_prefix: str
) -> None:
    store = EventStore(core, registry)
    relay = make_relay(db, store, broker.bootstrap_servers, topic_prefix)
    async with running(relay):
        await bump(db, store, "c", open_first=True)
        await bump(db, store, "c", 4)
        await relay.drain(timeout=30)  # acknowledged by the broker ...
        broker.stop()
        broker.start()  # ... and lost by it, with nothing new to publish
        runner = make_runner(db, broker.bootstrap_servers, topic_prefix)
        await runner.start()
        try:
            await eventually(lambda: _values_are(db, {"c": 4}), timeout=60)
        finally:
            await runner.stop()


async def test_a_relay_restarted_against_an_emptied_broker_republishes(
    db: Database, broker: EmbeddedKafka, topic_prefix: str
) -> None:
    """The whole platform stopped, the broker restarted empty, the relay started again."""
    store = EventStore(core, registry)
    relay = make_relay(db, store, broker.bootstrap_servers, topic_prefix)
    async with running(relay):
        await bump(db, store, "d", open_first=True)
        await relay.drain(timeout=30)
    broker.stop()
    broker.start()
    relay = make_relay(db, store, broker.bootstrap_servers, topic_prefix)
    async with running(relay):
        records = await read_topic(broker.bootstrap_servers, f"{topic_prefix}toy.counters", 1, timeout=30)
    assert [Envelope.from_record(r).subject for r in records] == ["d"]


async def test_republish_on_request_sends_the_log_again_from_a_position(
    db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    store = EventStore(core, registry)
    relay = make_relay(db, store, kafka_bootstrap, topic_prefix)
    await bump(db, store, "e", open_first=True)
    for _ in range(3):
        await bump(db, store, "e", 1)
    async with running(relay):
        await relay.drain(timeout=30)
        await request_republish(db, core, from_position=3)  # `doorstep republish toy --from-position 3`
        records = await read_topic(kafka_bootstrap, f"{topic_prefix}toy.counters", 6, timeout=30)
    assert [Envelope.from_record(r).sequence for r in records] == [1, 2, 3, 4, 3, 4]


async def test_two_relays_of_one_service_publish_each_event_once_and_take_over(
    db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    store = EventStore(core, registry)
    first = make_relay(db, store, kafka_bootstrap, topic_prefix, lease_ttl=2.0)
    second = make_relay(db, store, kafka_bootstrap, topic_prefix, lease_ttl=2.0)
    await bump(db, store, "f", open_first=True)
    async with running(first), running(second):
        for _ in range(30):
            await bump(db, store, "f", 1)
            first.notify()
            second.notify()
        await first.drain(timeout=30)
        assert first.lease.held != second.lease.held  # one publishes, the other stands by
    # the first holder is gone; the other takes over once the lease expires
    third = make_relay(db, store, kafka_bootstrap, topic_prefix, lease_ttl=2.0)
    for _ in range(5):
        await bump(db, store, "f", 1)
    async with running(third):
        await third.drain(timeout=30)
    records = await read_topic(kafka_bootstrap, f"{topic_prefix}toy.counters", 36, timeout=30)
    assert [Envelope.from_record(r).sequence for r in records] == list(range(1, 37))


async def _values_are(db: Database, expected: dict[str, int]) -> bool:
    return await values(db) == expected
