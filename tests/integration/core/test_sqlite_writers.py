"""SQLite with more than one writer: another process, an offline rebuild, a second worker."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from doorstep_shared.db import Database
from sqlalchemy import text


def other_writer(path: Path, *statements: str, hold: float = 0.5) -> threading.Thread:
    """Another process's writer: takes the write lock, keeps it `hold` seconds, commits."""
    holding = threading.Event()

    def write() -> None:
        con = sqlite3.connect(path, isolation_level=None, timeout=30)
        con.execute("BEGIN IMMEDIATE")
        holding.set()
        time.sleep(hold)
        for statement in statements:
            con.execute(statement)
        con.execute("COMMIT")
        con.close()

    thread = threading.Thread(target=write)
    thread.start()
    assert holding.wait(5)
    return thread


async def test_a_write_transaction_waits_for_another_writer_and_then_sees_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "writers.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.transaction() as s:  # the file is in WAL mode from here on
        await s.execute(text("CREATE TABLE t (n INTEGER NOT NULL)"))
    thread = other_writer(path, "INSERT INTO t VALUES (1)")
    try:
        # read, then write from what was read: a deferred BEGIN would read the old
        # snapshot and then fail to write; BEGIN IMMEDIATE waits for the lock first
        async with db.transaction() as s:
            count = (await s.execute(text("SELECT count(*) FROM t"))).scalar_one()
            await s.execute(text("INSERT INTO t VALUES (:n)"), {"n": count + 10})
    finally:
        thread.join()
    async with db.session() as s:
        assert sorted((await s.execute(text("SELECT n FROM t"))).scalars()) == [1, 11]
    await db.dispose()


async def test_reads_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/reads.db")
    async with db.transaction() as s:
        await s.execute(text("CREATE TABLE t (n INTEGER NOT NULL)"))
        await s.execute(text("INSERT INTO t VALUES (1)"))
    con = sqlite3.connect(tmp_path / "reads.db", isolation_level=None, timeout=30)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO t VALUES (2)")
        async with db.session() as s:  # WAL: readers see the last commit and never block
            assert list((await s.execute(text("SELECT n FROM t"))).scalars()) == [1]
        con.execute("COMMIT")
    finally:
        con.close()
    await db.dispose()


async def test_waiting_for_another_writer_leaves_the_event_loop_free(tmp_path: Path) -> None:
    path = tmp_path / "loop.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.transaction() as s:
        await s.execute(text("CREATE TABLE t (n INTEGER NOT NULL)"))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    thread = other_writer(path)
    task = asyncio.create_task(ticker())
    try:
        async with db.transaction() as s:  # waits about 0.5 s for the lock
            await s.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        task.cancel()
        thread.join()
    # SQLite's own busy handler would have slept on this thread: no ticks at all
    assert ticks >= 20
    await db.dispose()


async def test_the_write_ahead_log_is_copied_into_the_database_file_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    assert db.checkpointer is not None
    db.checkpointer.interval = 0.05
    async with db.transaction() as s:
        await s.execute(text("CREATE TABLE t (n INTEGER NOT NULL)"))
    for n in range(50):
        async with db.transaction() as s:
            await s.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})

    def rows_in_main_file() -> int:
        # immutable=1 reads the database file alone, ignoring the write-ahead log
        con = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        try:
            return int(con.execute("SELECT count(*) FROM t").fetchone()[0])
        except sqlite3.OperationalError:  # the table itself is still only in the log
            return 0
        finally:
            con.close()

    assert rows_in_main_file() < 50  # automatic checkpoints inside commits are off
    deadline = time.monotonic() + 5
    while rows_in_main_file() < 50 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert rows_in_main_file() == 50
    await db.dispose()
