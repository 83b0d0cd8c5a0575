"""A projection's read model built beside the live one, then swapped in (blue/green).

Rebuilding in place would leave queries answering from an empty, half-filled
read model for as long as the replay takes, and a replay that finds the history
incomplete would already have deleted what it cannot restore. So the new read
model is written elsewhere and only copied over the live tables, in one
transaction, once it has caught up.

"Elsewhere" relies on name resolution, not on rewriting statements: handlers use
unqualified table names, and the shadow's connections resolve those first to
the shadow's copies of the projection's tables (plus `projection_streams` and
`projection_tracking`), then to the live database for everything else (the
event log, other read models a handler may consult). A schema translate map
would have redirected every table of the metadata, including the ones the
shadow does not have.

- PostgreSQL: a schema `rebuild_<projection>`, first on the shadow engine's
  `search_path`; the swap runs on the live database and reads the shadow's
  tables qualified by that schema.
- SQLite: a database file beside the live one, opened as the shadow engine's
  `main`, with the live file ATTACHed as `live` on every connection (SQLite
  looks up unqualified names in main, then in attached databases). The swap
  runs on the shadow engine as one write transaction that takes both files'
  write locks; readers of the live file keep seeing the old rows (WAL) until
  it commits.

Both swap by DELETE + INSERT ... SELECT, so the live tables keep the exact shape
their migrations gave them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, delete, event, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlalchemy.schema import CreateTable, sort_tables

from doorstep_shared.db import Database
from doorstep_shared.eventstore import CoreTables

# set in the session.info of every session writing a shadow: side effects that
# outlive the transaction (an in-memory index fed after commit) must skip these
REPLAYING = "doorstep.replaying"

LIVE = "live"  # the live SQLite file's name on a shadow connection


class Shadow:
    """The tables of one projection, built beside the live ones."""

    def __init__(
        self, live: Database, core: CoreTables, name: str, tables: list[Table], *, secondary_indexes: bool = True
    ) -> None:
        if any(t.schema is not None for t in tables):
            raise ValueError(f"projection {name}: its tables must live in the default schema")
        self.live = live
        self.core = core
        self.name = name
        self.tables = sort_tables(tables)  # parents before children
        # the swap copies rows into the live tables, which keep their indexes; the shadow's
        # own serve only its handlers' lookups, and cost a third of a replay's writes
        self.secondary_indexes = secondary_indexes
        self.bookkeeping = [core.projection_streams, core.projection_tracking]
        slug = re.sub(r"[^a-z0-9_]", "_", name.lower())
        self.schema = f"rebuild_{slug}"[:63]
        self.path: Path | None = None
        self._db: Database | None = None
        if live.is_sqlite:
            database = make_url(live.url).database
            if not database or database == ":memory:":
                raise ValueError("an in-memory SQLite database cannot be rebuilt beside itself")
            live_path = Path(database)
            self.path = live_path.with_name(f"{live_path.stem}.rebuild-{slug}{live_path.suffix or '.db'}")

    @property
    def db(self) -> Database:
        """The shadow's database: a runner given it writes the shadow's tables."""
        if self._db is None:
            raise RuntimeError("the shadow is not created")
        return self._db

    async def create(self) -> Database:
        """Create empty copies of the projection's tables; drops a leftover shadow first."""
        await self.drop()
        if self.live.is_sqlite:
            assert self.path is not None
            db = Database(f"sqlite+aiosqlite:///{self.path}", scratch=True)
            live_file = str(Path(make_url(self.live.url).database or "").resolve())
            event.listen(db.engine.sync_engine, "connect", _attach(live_file))
        else:
            async with self.live.engine.begin() as conn:
                await conn.execute(text(f"CREATE SCHEMA {self._q(self.schema)}"))
                search_path = (await conn.execute(text("SHOW search_path"))).scalar() or "public"
            db = Database(self.live.url)
            event.listen(db.engine.sync_engine, "connect", _search_path(f"{self._q(self.schema)}, {search_path}"))
        # plain BEGIN for the shadow's writes: BEGIN IMMEDIATE would take the live file's lock too
        db.sessionmaker = async_sessionmaker(db.engine, expire_on_commit=False, info={REPLAYING: True})
        db.write_sessionmaker = db.sessionmaker
        self._db = db
        async with db.engine.begin() as conn:
            await conn.run_sync(self._create_tables)
        return db

    def _create_tables(self, conn: Any) -> None:
        for table in self.bookkeeping:
            table.create(conn, checkfirst=False)  # checkfirst would find the live table
        for table in self.tables:
            if self.secondary_indexes:
                table.create(conn, checkfirst=False)
            else:  # keys and unique constraints only (upserts need them)
                conn.execute(CreateTable(table))

    async def drop(self) -> None:
        """Remove the shadow (its file, or its schema); harmless if absent."""
        if self._db is not None:
            db, self._db = self._db, None
            await db.dispose()
        if self.live.is_sqlite:
            assert self.path is not None
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        else:
            async with self.live.engine.begin() as conn:
                await conn.execute(text(f"DROP SCHEMA IF EXISTS {self._q(self.schema)} CASCADE"))

    async def count(self, table: Table) -> int:
        """Rows in the shadow's copy of `table` (tests, progress)."""
        async with self.db.engine.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(table))).scalar() or 0

    # the swap -------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def writers_held(self, lock_keys: list[int]) -> AsyncIterator[AsyncConnection | None]:
        """Keep the live projection's writers out until the swap is done.

        SQLite: the live database's in-process write lock (only a worker process
        applies projections). PostgreSQL: the advisory lock of every partition, in
        the order the runner takes them, on a transaction the swap then runs in; a
        runner reads its applied versions only once it holds them, so whatever it
        applies next is measured against the swapped-in versions.
        """
        if self.live.is_sqlite:
            async with self.live.write_lock():
                yield None
        else:
            async with self.live.engine.begin() as conn:
                for key in lock_keys:
                    await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
                yield conn

    async def swap(self, held: AsyncConnection | None, *, tracking: bool, generation: int | None = None) -> None:
        """Replace the live read model and this projection's bookkeeping, in one transaction.

        Call inside `writers_held`, with what it yielded. `tracking`: replace the
        projection's Kafka offsets with the shadow's too (a replay from Kafka); a
        replay from the event log keeps the live ones, which still say where the
        live consumer group is. `generation`: the consumer group the live runner
        moves to (the one the shadow consumed in).
        """
        async with self._swap_connection(held) as (conn, live_schema, shadow_schema):
            for table in reversed(self.tables):
                await conn.execute(delete(_at(table, live_schema)))
            for table in self.tables:
                await _copy(conn, table, shadow_schema, live_schema)
            books = [self.core.projection_streams] + ([self.core.projection_tracking] if tracking else [])
            for table in books:
                live_t = _at(table, live_schema)
                await conn.execute(delete(live_t).where(live_t.c.projection == self.name))
                await _copy(conn, table, shadow_schema, live_schema)
            if generation is not None:
                gens = _at(self.core.projection_generations, live_schema)
                await conn.execute(delete(gens).where(gens.c.projection == self.name))
                await conn.execute(insert(gens).values(projection=self.name, generation=generation))

    @contextlib.asynccontextmanager
    async def _swap_connection(
        self, held: AsyncConnection | None
    ) -> AsyncIterator[tuple[AsyncConnection, str | None, str | None]]:
        if held is not None:
            yield held, None, self.schema
            return
        if self.live.checkpointer is not None:
            self.live.checkpointer.wrote()
        # BEGIN IMMEDIATE takes both files' SQLite locks, waiting for other processes without blocking
        writer = self.db.engine.execution_options(doorstep_write=True)
        async with writer.begin() as conn:
            yield conn, LIVE, "main"

    def _q(self, name: str) -> str:
        return str(self.live.engine.dialect.identifier_preparer.quote(name))


async def _copy(conn: AsyncConnection, table: Table, source: str | None, target: str | None) -> None:
    src, dst = _at(table, source), _at(table, target)
    names = [c.name for c in table.columns]
    await conn.execute(insert(dst).from_select(names, select(*(src.c[n] for n in names))))


_copies: dict[tuple[Table, str | None], Table] = {}


def _at(table: Table, schema: str | None) -> Table:
    """`table` as seen in `schema` (None: wherever the connection's names resolve)."""
    if schema is None:
        return table
    key = (table, schema)
    if key not in _copies:
        _copies[key] = table.to_metadata(MetaData(), schema=schema)
    return _copies[key]


def _attach(live_file: str) -> Any:
    def attach(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"ATTACH DATABASE ? AS {LIVE}", (live_file,))
        # the swap rewrites the live tables in one transaction: their pages stay in memory
        cursor.execute(f"PRAGMA {LIVE}.cache_size=-262144")
        cursor.close()

    return attach


def _search_path(path: str) -> Any:
    """Set a new connection's search path outside any transaction: set inside one, the
    pool's rollback when the connection is first returned would undo it, and the
    shadow's writes would land in the live tables."""

    def set_path(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET SESSION search_path TO {path}")
            cursor.close()
        finally:
            dbapi_connection.autocommit = autocommit

    return set_path
