"""SQLite with more than one writer: another process, an offline rebuild, a second worker."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from doorstep_shared.db import Database
from sqlalchemy import text


async def test_a_write_transaction_waits_for_another_writer_and_then_sees_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "writers.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.transaction() as s:  # the file is in WAL mode from here on
        await s.execute(text("CREATE TABLE t (n INTEGER NOT NULL)"))
    holding = threading.Event()

    def other_writer() -> None:
        con = sqlite3.connect(path, isolation_level=None, timeout=30)
        con.execute("BEGIN IMMEDIATE")
        holding.set()
        time.sleep(0.5)
        con.execute("INSERT INTO t VALUES (1)")
        con.execute("COMMIT")
        con.close()

    thread = threading.Thread(target=other_writer)
    thread.start()
    assert holding.wait(5)
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
