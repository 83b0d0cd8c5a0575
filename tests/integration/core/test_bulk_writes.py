"""Rows written in bulk (`insert_rows`, queued upserts) read back as SQLAlchemy itself writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from doorstep_shared.db import Database, UtcDateTime
from doorstep_shared.writes import deferred_upserts, insert_rows, upsert
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, select

metadata = MetaData()
things = Table(
    "bulk_things",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("n", Integer),
    Column("tags", JSON, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("note", String(50)),
)
with_default = Table(
    "bulk_defaults",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("kind", String(20), nullable=False, default="plain"),
)

WHEN = datetime(2026, 12, 2, 14, 0, 0, 123456, tzinfo=UTC)


def row(i: int, **over: object) -> dict[str, object]:
    values: dict[str, object] = {
        "id": f"t{i}",
        "n": i,
        "tags": {"list": [i, "中文"], "empty": None},
        "at": WHEN + timedelta(seconds=i),
        "note": None if i % 2 else f"note {i}",
    }
    return {**values, **over}


@pytest.fixture
async def tables(db: Database) -> Database:
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return db


async def read(db: Database, table: Table) -> list[dict[str, object]]:
    async with db.session() as s:
        return [dict(r) for r in (await s.execute(select(table).order_by(table.c.id))).mappings()]


async def test_inserted_rows_read_back_as_written(tables: Database) -> None:
    rows = [row(i) for i in range(5)]
    async with tables.transaction() as s:
        await insert_rows(s, things, rows)
    assert await read(tables, things) == sorted(rows, key=lambda r: str(r["id"]))


async def test_queued_upserts_replace_rows_and_keep_order_with_other_statements(tables: Database) -> None:
    async with tables.transaction() as s:
        await insert_rows(s, things, [row(1), row(2)])
    east = timezone(timedelta(hours=8))
    async with tables.transaction() as s, deferred_upserts(s):
        await upsert(s, things, [row(2, n=20, at=WHEN.astimezone(east)), row(3)], ["id"])
        # a read in the block sees the queued rows: they are written first
        seen = (await s.execute(select(things.c.n).where(things.c.id == "t2"))).scalar()
        await insert_rows(s, things, [row(4)])
    assert seen == 20
    got = {r["id"]: r for r in await read(tables, things)}
    assert sorted(got) == ["t1", "t2", "t3", "t4"]
    assert got["t2"]["n"] == 20 and got["t2"]["at"] == WHEN  # the instant, back in UTC
    assert got["t3"]["tags"] == {"list": [3, "中文"], "empty": None}


async def test_python_side_defaults_and_uneven_rows_take_sqlalchemys_path(tables: Database) -> None:
    async with tables.transaction() as s:
        await insert_rows(s, with_default, [{"id": "a"}, {"id": "b"}])
    assert [r["kind"] for r in await read(tables, with_default)] == ["plain", "plain"]
    uneven = [row(1), {k: v for k, v in row(2).items() if k != "note"}]
    with pytest.raises(Exception, match="note"):  # SQLAlchemy names the missing value
        async with tables.transaction() as s:
            await insert_rows(s, things, uneven)
    assert await read(tables, things) == []
