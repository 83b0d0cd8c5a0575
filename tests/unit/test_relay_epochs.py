"""A projection reads a partition again when a relay's newer epoch shows up part-way through it."""

from __future__ import annotations

from types import SimpleNamespace

from doorstep_shared.db import Database
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection, ProjectionRunner

from tests.toy import core


def record(offset: int, epoch: int, partition: int = 0) -> SimpleNamespace:
    headers = [
        ("ce_id", f"e{offset}".encode()),
        ("ce_type", b"doorstep.toy.CounterIncremented"),
        ("ce_subject", b"c"),
        ("ce_sequence", str(offset + 1).encode()),
    ]
    if epoch:
        headers.append(("ce_relayepoch", str(epoch).encode()))
    return SimpleNamespace(topic="toy.counters", partition=partition, offset=offset, headers=headers, value=b"{}")


def runner(known: dict[tuple[str, int], int]) -> ProjectionRunner:
    r = ProjectionRunner(
        db=Database("sqlite+aiosqlite:///:memory:"),
        tables=core,
        projection=Projection("counters", ["toy.counters"]),
        broker_factory=lambda: None,  # type: ignore[arg-type,return-value]
        service="toy",
    )
    r._epochs = dict(known)
    return r


async def epochs(r: ProjectionRunner, records: list[SimpleNamespace]) -> dict[tuple[str, int], int]:
    return await r._epochs_of(records, [Envelope.from_record(x) for x in records])


async def test_a_newer_epoch_part_way_through_a_partition_means_reading_it_again() -> None:
    r = runner({("toy.counters", 0): 1})
    # noted only once the partition is read again from its start (or met at offset 0)
    assert await epochs(r, [record(40, 1), record(41, 2), record(42, 2)]) == {}
    assert r.stale_partitions == {("toy.counters", 0): 2}


async def test_a_newer_epoch_at_the_first_offset_is_only_noted() -> None:
    r = runner({})
    assert await epochs(r, [record(0, 3), record(1, 3)]) == {("toy.counters", 0): 3}
    assert r.stale_partitions == {}


async def test_records_of_known_or_older_epochs_change_nothing() -> None:
    r = runner({("toy.counters", 0): 2, ("toy.counters", 1): 0})
    assert await epochs(r, [record(7, 1), record(8, 2), record(3, 0, partition=1)]) == {}
    assert r.stale_partitions == {}
