"""Writing read-model rows in bulk: upserts queued per statement shape, rows bound as tuples.

A projection batch applies hundreds of events; writing each row as it goes costs
a statement per row. `upsert` and `insert_rows` inside `deferred_upserts` queue
rows per statement shape and write each shape with one executemany, just before
the session runs any other statement (so reads and updates still see them) or
when the block ends.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import JSON, event, insert
from sqlalchemy.orm import ORMExecuteState, Session

from doorstep_shared.db import json_text

DEFERRED = "doorstep.deferred_upserts"


async def upsert(
    session: Any,
    table: Any,
    rows: list[dict[str, Any]],
    keys: list[str],
    update: list[str] | None = None,
) -> None:
    """Insert rows, updating `update` columns (default: all but keys) on key conflict.

    Inside `deferred_upserts(session)` the rows are queued per statement shape and
    written with one executemany per shape, just before the session runs any other
    statement (so reads and updates still see them) or when the block ends.
    """
    if not rows:
        return
    table = getattr(table, "__table__", table)
    columns = tuple(update if update is not None else [c for c in rows[0] if c not in keys])
    stmt = _upsert_statement(session.get_bind().dialect.name, table, tuple(keys), columns)
    pending = session.info.get(DEFERRED)
    if pending is not None:
        pending.setdefault(stmt, []).extend(rows)
        return
    await session.execute(stmt, rows)


async def insert_rows(session: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows of one shape (see `write_rows`); queued like `upsert` inside `deferred_upserts`."""
    if not rows:
        return
    stmt = _insert_statement(getattr(table, "__table__", table))
    pending = session.info.get(DEFERRED)
    if pending is not None:
        pending.setdefault(stmt, []).extend(rows)
        return
    await session.run_sync(write_rows, stmt, rows)


@functools.cache
def _insert_statement(table: Any) -> Any:
    return insert(table)


@contextlib.asynccontextmanager
async def deferred_upserts(session: Any) -> AsyncIterator[None]:
    """Batch the upserts of a block (a projection applying hundreds of events)."""
    session.info[DEFERRED] = {}
    try:
        yield
        pending = session.info.pop(DEFERRED, {})
        for stmt, rows in pending.items():
            await session.run_sync(write_rows, stmt, rows)
    finally:
        session.info.pop(DEFERRED, None)


@event.listens_for(Session, "do_orm_execute")
def _flush_deferred_first(state: ORMExecuteState) -> None:
    """Before any other statement runs, write what is queued, in order."""
    session = state.session
    pending = session.info.get(DEFERRED)
    if not pending:
        return
    session.info[DEFERRED] = {}
    for stmt, rows in pending.items():
        write_rows(session, stmt, rows)


def write_rows(session: Session, stmt: Any, rows: list[dict[str, Any]]) -> None:
    """Execute an INSERT (or upsert) for many rows of one shape.

    On SQLite, binding the rows costs more than inserting them when SQLAlchemy
    does it (a parameter dictionary per row, each value looked up and processed
    on its own), so the statement is compiled once per shape and the rows are
    bound as tuples through the same type processors. Statements whose columns
    have Python-side defaults, and other backends, take SQLAlchemy's path.
    """
    conn = session.connection()
    plan = _bulk_plan(stmt, conn.dialect, tuple(rows[0])) if conn.dialect.name == "sqlite" else None
    if plan is None:
        session.execute(stmt, rows)
        return
    sql, (names, procs) = plan
    try:  # column by column: one comprehension per column rather than a generator per row
        columns = [[row[n] for row in rows] for n in names]
    except KeyError:  # rows of different shapes: SQLAlchemy says which value is missing
        session.execute(stmt, rows)
        return
    bound = [values if p is None else list(map(p, values)) for values, p in zip(columns, procs, strict=True)]
    conn.exec_driver_sql(sql, list(zip(*bound, strict=True)))


BulkPlan = tuple[str, tuple[tuple[str, ...], tuple[Any, ...]]]


@functools.lru_cache(maxsize=512)
def _bulk_plan(stmt: Any, dialect: Any, keys: tuple[str, ...]) -> BulkPlan | None:
    """(SQL, (bind names in order, their processors)) for `stmt` bound from rows with `keys`."""
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ())
    if compiled.insert_prefetch or compiled.update_prefetch or not set(names) <= set(keys):
        return None
    procs = tuple(_processor(compiled.binds[n].type, dialect) for n in names)
    return compiled.string, (names, procs)


def _processor(type_: Any, dialect: Any) -> Any:
    """The column type's bind processor; JSON straight to its serializer (the generic one
    wraps it in checks for SQL NULL sentinels, which rows written here never hold)."""
    if isinstance(type_, JSON) and not type_.none_as_null and dialect._json_serializer is json_text:
        return json_text
    return type_.dialect_impl(dialect).bind_processor(dialect)


@functools.lru_cache(maxsize=512)
def _upsert_statement(dialect: str, table: Any, keys: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    """Built once per shape: constructing ON CONFLICT clauses is costly, executing a cached one is not."""
    from sqlalchemy.dialects import postgresql, sqlite

    stmt: Any = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    if columns:
        return stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: getattr(stmt.excluded, c) for c in columns}
        )
    return stmt.on_conflict_do_nothing(index_elements=list(keys))
