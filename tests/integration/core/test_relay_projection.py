"""Outbox relay and projection runner against the real broker and both databases."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

from aiokafka import AIOKafkaConsumer
from doorstep_shared.db import Database
from doorstep_shared.embedded import EmbeddedKafka
from doorstep_shared.eventstore import EventStore
from doorstep_shared.messaging import Envelope, TopicEnsurer, make_broker
from doorstep_shared.projections import Projection, ProjectionRunner
from doorstep_shared.relay import OutboxRelay
from doorstep_shared.settings import ServiceSettings
from doorstep_shared.uow import CommandResult, UnitOfWork, execute
from doorstep_shared.writes import upsert
from sqlalchemy import select

from tests.helpers import eventually
from tests.toy import Counter, CounterIncremented, CounterOpened, core, counters, registry


def settings_for(bootstrap: str) -> ServiceSettings:
    return ServiceSettings(service_name="toy", KAFKA_BOOTSTRAP_SERVERS=bootstrap)


async def bump(db: Database, store: EventStore, cid: str, by: int = 1, *, open_first: bool = False) -> None:
    async def handler(uow: UnitOfWork) -> CommandResult:
        if open_first:
            c = Counter.open(cid, f"label-{cid}")
            uow.add(c)
        else:
            c = await uow.get(Counter, cid)
            c.increment(by)
        return uow.result(c)

    await execute(db, store, handler, meta={"correlation_id": f"corr-{cid}"})


async def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 15.0) -> list:  # type: ignore[type-arg]
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    records = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(records) < expected and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for recs in batch.values():
                records.extend(recs)
        # linger briefly to catch duplicates
        for recs in (await consumer.getmany(timeout_ms=300)).values():
            records.extend(recs)
    finally:
        await consumer.stop()
    return records


async def test_relay_publishes_in_order_with_cloudevents_headers(
    db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    store = EventStore(core, registry)
    settings = settings_for(kafka_bootstrap)
    relay = OutboxRelay(db=db, store=store, broker=make_broker(settings), service="toy", topic_prefix=topic_prefix)
    await bump(db, store, "a", open_first=True)
    for i in range(1, 6):
        await bump(db, store, "a", i)
    assert await relay.run_once() == 6
    await relay.broker.stop()
    records = await read_topic(kafka_bootstrap, f"{topic_prefix}toy.counters", 6)
    assert len(records) == 6
    envs = [Envelope.from_record(r) for r in records]
    assert [e.sequence for e in envs] == [1, 2, 3, 4, 5, 6]
    assert all(r.key == b"a" for r in records)
    headers = dict(records[1].headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"doorstep.toy.CounterIncremented"
    assert headers["ce_source"] == b"/doorstep/toy"
    assert headers["ce_subject"] == b"a"
    assert headers["ce_correlationid"] == b"corr-a"
    assert {"ce_id", "ce_time", "ce_sequence"} <= set(headers)
    assert datetime.fromisoformat(headers["ce_time"].decode()).utcoffset() == timedelta(0)  # RFC 3339, in UTC
    assert json.loads(records[1].value) == {"counter_id": "a", "by": 1}
    assert await relay.checkpoint() == envs[-1].position


async def test_relay_survives_broker_outage_and_delivers_everything_once_in_order(
    db: Database, topic_prefix: str
) -> None:
    broker_proc = EmbeddedKafka().start()
    port = broker_proc.port
    store = EventStore(core, registry)
    settings = settings_for(broker_proc.bootstrap_servers)
    relay = OutboxRelay(
        db=db,
        store=store,
        broker=make_broker(settings),
        service="toy",
        topic_prefix=topic_prefix,
        poll_interval=0.05,
        max_backoff=0.5,
        topics=TopicEnsurer(broker_proc.bootstrap_servers, 1, 1),
    )
    task = asyncio.create_task(relay.run())
    try:
        await bump(db, store, "b", open_first=True)
        await eventually(lambda: relay.checkpoint(), timeout=10)
        broker_proc.stop()  # the broker goes away mid-run ...
        for i in range(20):
            await bump(db, store, "b", i + 1)  # ... while commands keep being accepted
        await asyncio.sleep(1.0)
        async with db.session() as s:
            last = await store.last_position(s)
        assert await relay.checkpoint() < last  # nothing can have been published
        broker_proc = EmbeddedKafka(port=port).start()  # same address, empty memory
        await eventually(lambda: _checkpoint_at(relay, last), timeout=30)
        records = await read_topic(broker_proc.bootstrap_servers, f"{topic_prefix}toy.counters", 21)
        sequences = [Envelope.from_record(r).sequence for r in records]
        # the restarted broker lost the first event: it is published again, before the
        # ones appended while the broker was down, each once, in order
        assert sequences == list(range(1, 22))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await relay.broker.stop()
        broker_proc.stop()


async def _checkpoint_at(relay: OutboxRelay, position: int) -> bool:
    return await relay.checkpoint() >= position


def counter_projection(fail_on: str | None = None) -> Projection:
    projection = Projection("counters", ["toy.counters"], tables=[counters])

    @projection.on(CounterOpened)
    async def opened(session, env: Envelope) -> None:  # type: ignore[no-untyped-def]
        if fail_on and env.data["label"] == fail_on:
            raise ValueError("poison label")
        await upsert(session, counters, [{"id": env.subject, "value": 0, "label": env.data["label"]}], ["id"])

    @projection.on(CounterIncremented)
    async def incremented(session, env: Envelope) -> None:  # type: ignore[no-untyped-def]
        row = (await session.execute(select(counters.c.value).where(counters.c.id == env.subject))).scalar()
        await session.execute(
            counters.update().where(counters.c.id == env.subject).values(value=(row or 0) + env.data["by"])
        )

    return projection


async def values(db: Database) -> dict[str, int]:
    async with db.session() as s:
        return {r.id: r.value for r in await s.execute(select(counters))}


async def test_projection_applies_once_even_when_events_are_republished(
    db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    store = EventStore(core, registry)
    settings = settings_for(kafka_bootstrap)
    relay = OutboxRelay(db=db, store=store, broker=make_broker(settings), service="toy", topic_prefix=topic_prefix)
    await bump(db, store, "c", open_first=True)
    for _ in range(9):
        await bump(db, store, "c", 10)
    await relay.run_once()
    # the ack of that batch is "lost": a restarted relay resends everything from an older checkpoint
    await relay._save_checkpoint(0)
    await relay.broker.stop()
    relay = OutboxRelay(db=db, store=store, broker=make_broker(settings), service="toy", topic_prefix=topic_prefix)
    await relay.run_once()
    await relay.broker.stop()

    runner = ProjectionRunner(
        db=db,
        tables=core,
        projection=counter_projection(),
        broker_factory=lambda: make_broker(settings),
        service="toy",
        topic_prefix=topic_prefix,
    )
    await runner.start()
    try:
        await eventually(lambda: _tracked_at_least(runner, 19))
        assert await values(db) == {"c": 90}
        # restart: redelivery from the committed offsets applies nothing twice
        await runner.stop()
        await runner.start()
        await asyncio.sleep(1.0)
        assert await values(db) == {"c": 90}
        # rebuild from the beginning gives the same answer
        await runner.stop()  # replay in place from the topics, which hold the whole history
        await runner.reset()
        await runner.start()
        await eventually(lambda: _tracked_at_least(runner, 19))
        assert await values(db) == {"c": 90}
        assert runner.generation == 1
    finally:
        await runner.stop()


async def _tracked_at_least(runner: ProjectionRunner, offset: int) -> bool:
    tracked = await runner.tracked_offsets()
    return bool(tracked) and max(tracked.values()) >= offset


async def _has(db: Database, ids: set[str]) -> bool:
    return set(await values(db)) >= ids


async def test_poison_event_goes_to_dead_letter_topic_and_the_runner_goes_on(
    db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    store = EventStore(core, registry)
    settings = settings_for(kafka_bootstrap)
    relay = OutboxRelay(db=db, store=store, broker=make_broker(settings), service="toy", topic_prefix=topic_prefix)
    await bump(db, store, "good1", open_first=True)
    await bump(db, store, "bad", open_first=True)  # label "label-bad" makes the handler fail
    await bump(db, store, "good2", open_first=True)
    await relay.run_once()
    await relay.broker.stop()
    runner = ProjectionRunner(
        db=db,
        tables=core,
        projection=counter_projection(fail_on="label-bad"),
        broker_factory=lambda: make_broker(settings),
        service="toy",
        topic_prefix=topic_prefix,
        max_attempts=2,
    )
    await runner.start()
    try:
        await eventually(lambda: runner.dead_letters == 1)
        await eventually(lambda: _has(db, {"good1", "good2"}))
        assert set(await values(db)) == {"good1", "good2"}
    finally:
        await runner.stop()
    (dead,) = await read_topic(kafka_bootstrap, f"{topic_prefix}toy.counters.dlq", 1)
    headers = {k: v.decode() for k, v in dead.headers}
    assert dead.key == b"bad"
    assert "poison label" in headers["dlq_error"]
    assert headers["dlq_projection"] == "toy.counters"
    assert headers["ce_subject"] == "bad"
