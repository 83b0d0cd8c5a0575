"""Blue/green rebuilds from the event log and from Kafka, on both databases."""

from __future__ import annotations

import asyncio

import pytest
from doorstep_shared.db import Database
from doorstep_shared.embedded import EmbeddedKafka
from doorstep_shared.eventstore import EventStore, Upcasters
from doorstep_shared.messaging import Envelope, TopicEnsurer, make_broker
from doorstep_shared.projections import ProjectionRunner
from doorstep_shared.rebuild import EVENT_LOG, KAFKA, Rebuild, RebuildRefused
from doorstep_shared.relay import OutboxRelay
from doorstep_shared.replay import Progress
from doorstep_shared.settings import ServiceSettings
from sqlalchemy import delete, insert, select, update

from tests.helpers import eventually
from tests.integration.core.test_relay_projection import bump, counter_projection, values
from tests.toy import core, counters, registry

NO_BROKER = "127.0.0.1:1"  # nothing listens there


def runner_for(
    db: Database, bootstrap: str, prefix: str, *, service: str = "toy", topics: tuple[str, ...] = ("toy.counters",)
) -> ProjectionRunner:
    projection = counter_projection()
    projection.topics = list(topics)
    settings = ServiceSettings(service_name=service, KAFKA_BOOTSTRAP_SERVERS=bootstrap)
    return ProjectionRunner(
        db=db,
        tables=core,
        projection=projection,
        broker_factory=lambda: make_broker(settings),
        service=service,
        topic_prefix=prefix,
    )


def rebuild_of(runner: ProjectionRunner, store: EventStore, bootstrap: str, **kw) -> Rebuild:  # type: ignore[no-untyped-def]
    settings = ServiceSettings(service_name=runner.service, KAFKA_BOOTSTRAP_SERVERS=bootstrap)
    return Rebuild(runner, store, bootstrap=bootstrap, broker_factory=lambda: make_broker(settings), **kw)


async def log_envelopes(db: Database, store: EventStore, service: str = "toy") -> list[Envelope]:
    async with db.session() as s:
        return [Envelope.from_stored(service, store.upcast_stored(e)) for e in await store.read_after(s, 0, 10_000)]


async def test_an_own_topic_projection_is_rebuilt_from_the_event_log_without_a_broker(db: Database) -> None:
    upcasters = Upcasters()

    @upcasters.register("CounterOpened", 1)
    def label_was_name(data: dict[str, object]) -> dict[str, object]:
        return {"counter_id": data["counter_id"], "label": data.pop("name")}

    store = EventStore(core, registry, upcasters)
    for cid in ("a", "b", "c"):
        await bump(db, store, cid, open_first=True)
        for i in range(1, 4):
            await bump(db, store, cid, i)
    # an event recorded under an older schema is upcast on the way
    async with db.transaction() as s:
        await s.execute(
            insert(core.events).values(
                event_id="old-1",
                stream_id="d",
                stream_type="counters",
                version=1,
                event_type="CounterOpened",
                schema_version=1,
                data={"counter_id": "d", "name": "d-label"},
                meta={},
                recorded_at=(await store.history(s, "a"))[0].recorded_at,
            )
        )
    runner = runner_for(db, NO_BROKER, "t-lost.")  # the broker lost every topic: none to read
    # the read model had applied part of the history, then lost rows
    await runner.apply_envelopes((await log_envelopes(db, store))[:5])
    async with db.transaction() as s:
        await s.execute(counters.delete().where(counters.c.id == "a"))
    seen: list[int] = []
    progress = await rebuild_of(
        runner, store, NO_BROKER, log_batch=4, on_progress=lambda p: seen.append(p.events)
    ).run()
    assert progress.state == "done" and progress.source == EVENT_LOG
    assert progress.events == 13 and progress.total == 13 and progress.rate > 0
    assert seen[0] < 13  # reported batch by batch
    assert await values(db) == {"a": 6, "b": 6, "c": 6, "d": 0}
    async with db.session() as s:
        label = (await s.execute(select(counters.c.label).where(counters.c.id == "d"))).scalar()
    assert label == "d-label"
    assert await runner.stream_version("toy:a") == 4
    # a second rebuild changes nothing, and leaves no shadow behind
    await rebuild_of(runner, store, NO_BROKER).run()
    assert await values(db) == {"a": 6, "b": 6, "c": 6, "d": 0}
    if db.is_sqlite:
        assert not list(__import__("pathlib").Path(db.url.split("///", 1)[1]).parent.glob("*.rebuild-*"))


async def test_queries_answer_from_the_old_rows_until_the_swap(db: Database) -> None:
    store = EventStore(core, registry)
    for n in range(40):
        await bump(db, store, f"c{n}", open_first=True)
        await bump(db, store, f"c{n}", 5)
    runner = runner_for(db, NO_BROKER, "t-x.")
    await runner.apply_envelopes(await log_envelopes(db, store))
    async with db.transaction() as s:  # mark the old rows: the swap must replace them all at once
        await s.execute(update(counters).values(label="old"))
    labels_seen: list[set[str]] = []
    reading = True

    async def reader() -> None:
        while reading:
            async with db.session() as s:
                rows = (await s.execute(select(counters.c.label))).all()
            assert len(rows) == 40  # never an empty or half-filled read model
            labels_seen.append({"old" if r.label == "old" else "new" for r in rows})
            await asyncio.sleep(0)

    task = asyncio.create_task(reader())
    during: list[set[str]] = []

    def on_progress(p: Progress) -> None:
        if p.state == "replaying":
            during.append(labels_seen[-1] if labels_seen else set())

    await rebuild_of(runner, store, NO_BROKER, log_batch=7, on_progress=on_progress).run()
    await asyncio.sleep(0.01)
    reading = False
    await task
    assert during and all(s == {"old"} for s in during if s)
    assert all(len(s) == 1 for s in labels_seen)  # each read saw one read model, never a mix
    assert labels_seen[-1] == {"new"}
    assert await values(db) == {f"c{n}": 5 for n in range(40)}


async def test_events_appended_during_the_rebuild_are_caught_up_before_the_swap(db: Database) -> None:
    store = EventStore(core, registry)
    await bump(db, store, "a", open_first=True)
    runner = runner_for(db, NO_BROKER, "t-y.")
    rebuild = rebuild_of(runner, store, NO_BROKER)
    lock_keys = rebuild._lock_keys

    async def commands_go_on() -> list[int]:  # the last moment before the live writers are held off
        await bump(db, store, "a", 7)
        return await lock_keys()

    rebuild._lock_keys = commands_go_on  # type: ignore[method-assign]
    hooks: list[str] = []

    async def stop_live() -> None:
        hooks.append("stop")

    async def start_live() -> None:
        hooks.append("start")

    await rebuild.run(stop_live=stop_live, start_live=start_live)
    assert hooks == []  # a replay from the log holds the live runner off, it does not stop it
    assert await values(db) == {"a": 7}
    assert await runner.stream_version("toy:a") == 2  # the catch-up's version replaced the replay's


async def test_a_projection_without_a_read_model_is_not_replayed(db: Database) -> None:
    runner = runner_for(db, NO_BROKER, "t-z.")
    runner.projection.tables = []
    with pytest.raises(RebuildRefused, match="keeps no read model"):
        rebuild_of(runner, EventStore(core, registry), NO_BROKER)


async def test_foreign_topics_without_their_whole_history_are_refused_and_the_read_model_kept(
    db: Database, topic_prefix: str
) -> None:
    # "other" publishes counters; this service's projection reads them from Kafka
    store = EventStore(core, registry)
    kafka = EmbeddedKafka().start()
    try:
        bootstrap = kafka.bootstrap_servers
        relay_settings = ServiceSettings(service_name="other", KAFKA_BOOTSTRAP_SERVERS=bootstrap)

        def relay() -> OutboxRelay:
            return OutboxRelay(
                db=db,
                store=store,
                broker=make_broker(relay_settings),
                service="other",
                topic_prefix=topic_prefix,
                topics=TopicEnsurer(bootstrap, 1, 1),
            )

        await bump(db, store, "f", open_first=True)
        for i in range(1, 5):
            await bump(db, store, "f", i)
        first = relay()
        await first.run_once()
        await first.broker.stop()
        assert first.topics is not None
        await first.topics.close()
        runner = runner_for(db, bootstrap, topic_prefix, topics=("other.counters",))

        # with the whole history, the rebuild replays Kafka into the shadow and swaps it in
        await runner.start()
        try:
            await eventually(lambda: values(db), timeout=20)
            await eventually(lambda: _value_is(db, "f", 10), timeout=20)
        finally:
            await runner.stop()
        async with db.transaction() as s:
            await s.execute(update(counters).values(value=-1))
        progress = await rebuild_of(runner, store, bootstrap).run()
        assert progress.source == KAFKA and progress.events == 5
        assert await values(db) == {"f": 10}
        assert runner.generation == 1  # the live runner moves to the group the shadow consumed in

        # the broker restarts empty: the check refuses before anything is touched
        port = kafka.port
        kafka.stop()
        kafka = EmbeddedKafka(port=port).start()
        with pytest.raises(RebuildRefused, match="no longer holds the whole history"):
            await rebuild_of(runner, store, bootstrap).run()
        assert await values(db) == {"f": 10}

        # later events arrive on the new topic, and the producer does not republish the
        # earlier ones (it kept no record of what the broker had acknowledged): a replay
        # would start mid-stream and is refused
        for i in range(5, 11):
            await bump(db, store, "f", i)
        async with db.transaction() as s:
            await s.execute(delete(core.relay_offsets))
        second = relay()
        await second.run_once()
        await second.broker.stop()
        assert second.topics is not None
        await second.topics.close()
        rebuild = rebuild_of(runner, store, bootstrap)
        with pytest.raises(RebuildRefused, match="miss earlier versions"):
            await rebuild.run()
        assert rebuild.progress.state == "refused"
        assert await values(db) == {"f": 10}  # the shadow's writes never reached the live read model
    finally:
        kafka.stop()


async def _value_is(db: Database, cid: str, value: int) -> bool:
    return (await values(db)).get(cid) == value


async def test_a_shadow_for_key_lookups_only_skips_the_secondary_indexes_the_live_tables_keep(db: Database) -> None:
    from doorstep_shared.shadow import Shadow
    from sqlalchemy import Column, Index, Integer, MetaData, String, Table, inspect

    indexed = Table(
        "indexed_rows",
        MetaData(),
        Column("id", String(20), primary_key=True),
        Column("area", String(20)),
        Column("n", Integer),
        Index("ix_indexed_rows_area", "area"),
    )
    async with db.engine.begin() as conn:
        await conn.run_sync(indexed.create)

    def index_names(conn: object) -> set[str]:
        return {i["name"] for i in inspect(conn).get_indexes("indexed_rows")}  # type: ignore[arg-type]

    for secondary, expected in ((True, {"ix_indexed_rows_area"}), (False, set())):
        shadow = Shadow(db, core, f"p{int(secondary)}", [indexed], secondary_indexes=secondary)
        try:
            shadow_db = await shadow.create()
            async with shadow_db.engine.connect() as conn:
                assert await conn.run_sync(index_names) == expected
        finally:
            await shadow.drop()
    async with db.engine.connect() as conn:
        assert await conn.run_sync(index_names) == {"ix_indexed_rows_area"}


async def test_a_shadows_reader_never_holds_up_its_writer(db: Database) -> None:
    """A shadow runner's applied-versions poll reads while batches commit: a reader holding
    the shadow must not make a commit wait (with a rollback journal it waits out the busy
    timeout, and a rebuild from Kafka stalls for half a minute per batch)."""
    if not db.is_sqlite:
        pytest.skip("PostgreSQL readers never block writers")
    from doorstep_shared.shadow import Shadow

    shadow = Shadow(db, core, "counters", [counters])
    try:
        shadow_db = await shadow.create()
        async with shadow_db.engine.connect() as reader:
            await reader.execute(select(counters.c.id))  # a read transaction stays open
            async with asyncio.timeout(10):
                async with shadow_db.transaction() as s:
                    await s.execute(insert(counters).values(id="a", value=1, label="x"))
            assert (await reader.execute(select(counters.c.id))).all() == []  # its snapshot
    finally:
        await shadow.drop()
