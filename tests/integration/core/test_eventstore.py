"""The event store on each database backend (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest
from doorstep_shared.db import Database
from doorstep_shared.domain import NotFound
from doorstep_shared.eventstore import ConcurrencyConflict, EventStore, Upcasters
from doorstep_shared.uow import CommandResult, UnitOfWork, execute
from sqlalchemy import insert

from tests.toy import Counter, CounterOpened, core, registry


def make_store(snapshot_every: int = 0) -> EventStore:
    upcasters = Upcasters()

    @upcasters.register("CounterOpened", 1)
    def _name_to_label(data: dict) -> dict:  # type: ignore[type-arg]
        data["label"] = data.pop("name")
        return data

    return EventStore(core, registry, upcasters, snapshot_every=snapshot_every)


async def open_counter(db: Database, store: EventStore, cid: str) -> CommandResult:
    async def handler(uow: UnitOfWork) -> CommandResult:
        c = Counter.open(cid, "visits")
        uow.add(c)
        return uow.result(c)

    reply = await execute(db, store, handler, meta={})
    return CommandResult(**reply.body)


async def test_append_and_load_round_trip(db: Database) -> None:
    store = make_store()
    await open_counter(db, store, "c1")

    async def inc(uow: UnitOfWork) -> CommandResult:
        c = await uow.get(Counter, "c1")
        c.increment(3)
        c.increment(4)
        return uow.result(c)

    reply = await execute(db, store, inc, meta={"correlation_id": "abc"})
    assert reply.body["version"] == 3
    async with db.session() as s:
        events = await store.load(s, "c1")
        history = await store.history(s, "c1")
    assert [type(e).__name__ for e in events] == [
        "CounterOpened",
        "CounterIncremented",
        "CounterIncremented",
    ]
    assert Counter.replay("c1", events).value == 7
    assert [h.version for h in history] == [1, 2, 3]
    assert history[-1].meta["correlation_id"] == "abc"
    assert reply.body["position"] == history[-1].position


async def test_expected_version_mismatch_is_a_conflict(db: Database) -> None:
    store = make_store()
    await open_counter(db, store, "c2")
    async with db.transaction() as s:
        with pytest.raises(ConcurrencyConflict):
            await store.append(
                s,
                stream_id="c2",
                stream_type="counters",
                expected_version=0,
                events=[CounterOpened("c2", "x")],
            )


async def test_concurrent_appends_one_wins_one_conflicts(db: Database) -> None:
    store = make_store()
    await open_counter(db, store, "c3")
    loaded = asyncio.Event()
    arrived = 0

    async def racer(uow: UnitOfWork) -> CommandResult:
        nonlocal arrived
        c = await uow.get(Counter, "c3")
        arrived += 1
        if arrived == 2:
            loaded.set()
        c.increment(1)
        return uow.result(c)

    async def attempt() -> str:
        # each racer loads version 1 before either appends
        async with db.session() as s:
            agg = Counter.replay("c3", await store.load(s, "c3"))
        assert agg.version == 1
        try:
            async with db.transaction() as s:
                agg.increment(1)
                await store.append(
                    s,
                    stream_id="c3",
                    stream_type="counters",
                    expected_version=1,
                    events=agg.collect(),
                )
                await asyncio.sleep(0.05)
            return "ok"
        except ConcurrencyConflict:
            return "conflict"

    outcomes = sorted(await asyncio.gather(attempt(), attempt()))
    assert outcomes == ["conflict", "ok"]
    async with db.session() as s:
        assert await store.current_version(s, "c3") == 2


async def test_positions_are_never_skipped_by_a_tailing_reader(db: Database) -> None:
    """Writers commit out of start order; a reader following the log must see every row."""
    store = make_store()
    total = 60

    async def writer(i: int) -> None:
        async with db.transaction() as s:
            await store.append(
                s,
                stream_id=f"w{i}",
                stream_type="counters",
                expected_version=0,
                events=[CounterOpened(f"w{i}", "x")],
            )
            await asyncio.sleep(random.random() * 0.02)  # hold the transaction open

    seen: list[int] = []
    done = asyncio.Event()

    async def reader() -> None:
        checkpoint = 0
        while True:
            finished = done.is_set()  # decided before reading, so a last commit is never missed
            async with db.session() as s:
                batch = await store.read_after(s, checkpoint, 1000)
            for e in batch:
                seen.append(e.position)
                checkpoint = e.position
            if finished and not batch:
                return
            await asyncio.sleep(0.001)

    reader_task = asyncio.create_task(reader())
    await asyncio.gather(*(writer(i) for i in range(total)))
    done.set()
    await reader_task
    async with db.session() as s:
        committed = [e.position for e in await store.read_after(s, 0, 10_000)]
    assert len(committed) == total
    assert seen == committed  # nothing skipped, nothing out of order


async def test_idempotency_key_returns_first_result_and_appends_once(db: Database) -> None:
    store = make_store()
    await open_counter(db, store, "c4")

    async def inc(uow: UnitOfWork) -> CommandResult:
        c = await uow.get(Counter, "c4")
        c.increment(5)
        return uow.result(c)

    replies = await asyncio.gather(
        *(execute(db, store, inc, meta={}, idempotency_key="k-1", request_fingerprint="f") for _ in range(3))
    )
    assert {r.body["version"] for r in replies} == {2}
    assert sum(not r.replayed for r in replies) == 1
    async with db.session() as s:
        assert await store.current_version(s, "c4") == 2


async def test_idempotency_key_reused_with_other_payload_is_rejected(db: Database) -> None:
    store = make_store()
    await open_counter(db, store, "c5")

    async def inc(uow: UnitOfWork) -> CommandResult:
        c = await uow.get(Counter, "c5")
        c.increment(1)
        return uow.result(c)

    await execute(db, store, inc, meta={}, idempotency_key="k-2", request_fingerprint="a")
    with pytest.raises(Exception, match="different request"):
        await execute(db, store, inc, meta={}, idempotency_key="k-2", request_fingerprint="b")


async def test_old_schema_versions_are_upcast_on_load(db: Database) -> None:
    store = make_store()
    async with db.transaction() as s:
        await s.execute(
            insert(core.events).values(
                event_id="00000000-0000-0000-0000-000000000001",
                stream_id="old",
                stream_type="counters",
                version=1,
                event_type="CounterOpened",
                schema_version=1,
                data={"counter_id": "old", "name": "legacy"},
                meta={},
                recorded_at=datetime.now(UTC),
            )
        )
    async with db.session() as s:
        (event,) = await store.load(s, "old")
        (stored,) = await store.read_after(s, 0, 10)
    assert event == CounterOpened("old", "legacy")
    assert store.upcast_stored(stored).data["label"] == "legacy"


async def test_snapshots_shorten_loading_and_give_the_same_state(db: Database) -> None:
    store = make_store(snapshot_every=5)
    await open_counter(db, store, "c6")
    for _ in range(12):

        async def inc(uow: UnitOfWork) -> CommandResult:
            c = await uow.get(Counter, "c6")
            c.increment(2)
            return uow.result(c)

        await execute(db, store, inc, meta={})
    async with db.session() as s:
        snap = await store.load_snapshot(s, "c6")
        assert snap is not None and snap[0] >= 10
        uow = UnitOfWork(s, store, {})
        c = await uow.get(Counter, "c6")
    assert (c.value, c.version) == (24, 13)


class FrozenCounter(Counter):
    """A counter declared immutable: its opening event is its only one."""

    immutable = True


async def test_immutable_aggregates_are_loaded_once_and_refuse_new_events(db: Database) -> None:
    store = make_store()
    await open_counter(db, store, "frozen")

    async def read(uow: UnitOfWork) -> CommandResult:
        c = await uow.get(FrozenCounter, "frozen")
        return CommandResult(id=c.id, version=c.version, position=0, extra={"label": c.label})

    first = await execute(db, store, read, meta={})
    assert store.remembered("frozen") is not None
    async with db.transaction() as s:  # behind the store's back: a cached load must not hit the table
        await s.execute(core.events.delete().where(core.events.c.stream_id == "frozen"))
    again = await execute(db, store, read, meta={})
    assert again.body == first.body == {"id": "frozen", "version": 1, "position": 0, "label": "visits"}
    with pytest.raises(NotFound):  # a store without the cached load finds nothing
        await execute(db, make_store(), read, meta={})

    await open_counter(db, store, "frozen-2")

    async def grow(uow: UnitOfWork) -> CommandResult:
        c = await uow.get(FrozenCounter, "frozen-2")
        c.increment(1)
        return uow.result(c)

    with pytest.raises(TypeError, match="immutable"):
        await execute(db, store, grow, meta={})
    async with db.session() as s:
        assert [e.version for e in await store.history(s, "frozen-2")] == [1]
