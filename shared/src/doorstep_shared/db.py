"""Database access: one async engine per service, on PostgreSQL or SQLite.

SQLite allows one writer at a time, so writes in a process take `write_lock`;
on PostgreSQL the lock is a no-op and ordering is the event store's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import orjson
from sqlalchemy import DateTime, TypeDecorator, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_only

from doorstep_shared.domain import as_utc

BUSY_TIMEOUT_S = 30  # how long a statement waits for another process's SQLite lock


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware in UTC.

    PostgreSQL keeps the offset; SQLite stores text and returns naive values, which
    would turn `ce_time` into a local-looking time and break comparisons with now().
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.astimezone(UTC) if value is not None and value.tzinfo is not None else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)

    # On SQLite the text is written and parsed here, in the format SQLAlchemy's own
    # DATETIME uses ("2026-12-02 14:00:00.123456"), by the C-coded isoformat and
    # fromisoformat rather than a format string and a regular expression: read
    # models write and read thousands of timestamps per batch.

    def bind_processor(self, dialect: Any) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                return value.isoformat(" ", "microseconds")
            if value.tzinfo is not UTC:
                value = value.astimezone(UTC)
            return value.isoformat(" ", "microseconds")[:-6]  # without "+00:00"

        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | datetime | None) -> datetime | None:
            if value is None:
                return None
            return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)

        return process


def json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class Database:
    def __init__(self, url: str, *, echo: bool = False, scratch: bool = False) -> None:
        """`scratch`: a SQLite file whose loss in a crash costs nothing (a rebuild's shadow):
        no fsync, no checkpoints while it is written."""
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # JSON columns (event data, read-model lists) are encoded for every row written
        kwargs: dict[str, Any] = {"echo": echo, "json_serializer": json_text, "json_deserializer": orjson.loads}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["async_creator"] = functools.partial(_inline_sqlite, parsed.database or ":memory:")
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self.write_sessionmaker = self.sessionmaker
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _scratch_pragmas if scratch else _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
            writer = self.engine.execution_options(doorstep_write=True)
            self.write_sessionmaker = async_sessionmaker(writer, expire_on_commit=False)
        self._lock = asyncio.Lock() if self.is_sqlite else None
        database = parsed.database or ""
        durable = self.is_sqlite and not scratch and database not in ("", ":memory:")
        self.checkpointer = WalCheckpointer(database) if durable else None

    @contextlib.asynccontextmanager
    async def write_lock(self) -> AsyncIterator[None]:
        if self._lock is None:
            yield
        else:
            async with self._lock:
                yield

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: committed on success, rolled back on any error."""
        if self.checkpointer is not None:
            self.checkpointer.wrote()
        async with self.write_lock(), self.write_sessionmaker() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self.checkpointer is not None:
            await self.checkpointer.stop()
        await self.engine.dispose()


class WalCheckpointer:
    """Copies SQLite's write-ahead log into the database file on a worker thread.

    SQLite's own automatic checkpoint runs inside whichever commit crosses its
    threshold: on the event loop's thread, fsync included, stalling every request
    of the process for that long. Connections therefore turn it off
    (`wal_autocheckpoint=0`) and this runs a passive checkpoint, which never
    blocks readers or writers, about once a second while there are writes.
    """

    def __init__(self, path: str, interval: float = 1.0) -> None:
        self.path = path
        self.interval = interval
        self._writes = 0
        self._checkpointed = 0
        self._task: asyncio.Task[None] | None = None
        self._conn: sqlite3.Connection | None = None
        self._guard = threading.Lock()

    def wrote(self) -> None:
        """Count a write transaction; starts the background task on first use."""
        self._writes += 1
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._run(), name=f"wal-checkpoint {self.path}")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self._writes != self._checkpointed:
                seen = self._writes
                try:
                    await asyncio.to_thread(self.checkpoint)
                except sqlite3.Error:  # busy or locked: the next round retries
                    continue
                self._checkpointed = seen

    def checkpoint(self) -> None:
        # one thread at a time: a cancelled wait does not stop a checkpoint already running
        with self._guard:
            if self._conn is None:
                self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        with self._guard:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    async def stop(self) -> None:
        """Stop the background task, checkpoint once more and close the connection."""
        if self._task is not None and self._task.get_loop() is asyncio.get_running_loop():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            with contextlib.suppress(sqlite3.Error):
                await asyncio.to_thread(self.checkpoint)
        self._task = None
        await asyncio.to_thread(self.close)


class _InlineQueue:
    """Stands in for aiosqlite's queue to its worker thread: runs each call at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Any]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineSqliteConnection(aiosqlite.Connection):
    """aiosqlite's interface, but each call runs on the event loop's own thread.

    A local SQLite statement takes microseconds; handing it to a worker thread and
    back costs more than running it, and a command issues dozens. Writers in this
    process already queue on `Database.write_lock`, so nothing here waits on a lock
    held by the same process.
    """

    def __init__(self, connector: Any) -> None:
        super().__init__(connector, iter_chunk_size=256)
        self._tx = _InlineQueue()  # type: ignore[assignment]

    def __await__(self) -> Any:
        return self._connect().__await__()

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


async def _inline_sqlite(database: str) -> InlineSqliteConnection:
    def connector() -> sqlite3.Connection:
        # transactions are begun explicitly (see `_sqlite_begin`), not by the driver
        return sqlite3.connect(database, timeout=30, check_same_thread=False, isolation_level=None)

    return await InlineSqliteConnection(connector)


def _sqlite_begin(conn: Any) -> None:
    """Write transactions take SQLite's write lock up front (BEGIN IMMEDIATE).

    A deferred transaction that reads first and writes later fails outright if
    another process (a projection worker, an offline rebuild) committed in
    between; taking the lock at BEGIN makes it wait its turn instead. The wait
    must not be SQLite's busy handler: it sleeps on the event loop's thread and
    would stall every request of the process, so BEGIN IMMEDIATE is tried without
    it and retried after short asynchronous sleeps.
    """
    if not conn.get_execution_options().get("doorstep_write"):
        conn.exec_driver_sql("BEGIN")
        return
    raw: sqlite3.Connection | None = getattr(conn.connection.driver_connection, "_connection", None)
    if raw is None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        return
    raw.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        delay = 0.0002
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            await_only(asyncio.sleep(delay))  # we run in SQLAlchemy's greenlet: yield to the loop
            delay = min(delay * 2, 0.005)
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")


def _scratch_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Write-ahead log, so the shadow's readers (a runner's applied-versions poll) never
    block its writer; no fsync and no checkpoint while it is built: a crash loses only
    the shadow, which is built again, and the log is folded in once, when it closes."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA main.journal_mode=WAL")
    cursor.execute("PRAGMA main.synchronous=OFF")
    cursor.execute("PRAGMA main.wal_autocheckpoint=0")
    cursor.execute("PRAGMA main.cache_size=-262144")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA wal_autocheckpoint=0")  # see WalCheckpointer
    cursor.close()
