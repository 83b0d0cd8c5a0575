"""Read-model rows that a projection batch reads and changes, written back once.

Applying event by event with one UPDATE each costs a statement per event and
breaks the batching of inserts (every UPDATE must see the rows queued before
it). A batch that touches the same table for hundreds of events instead loads
the rows it needs in one query, changes them in memory in event order, and
writes the final state with one executemany at the end of the batch.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from doorstep_shared.writes import upsert

CHUNK = 500  # keys per IN (...): well under every backend's bound-parameter limit


@functools.cache
def _select_by_keys(table: Table, key: str) -> Any:
    """Built once per table: a batch's prefetch then only binds its keys."""
    return select(table).where(table.c[key].in_(bindparam("keys", expanding=True)))


class RowBuffer:
    """Rows of one table keyed by its primary key column, for the span of one batch."""

    def __init__(self, table: Any, key: str) -> None:
        self.table: Table = getattr(table, "__table__", table)
        self.key = key
        self.columns = [c.name for c in self.table.columns]
        self._column_set = frozenset(self.columns)
        self._rows: dict[Any, dict[str, Any] | None] = {}
        self._dirty: dict[Any, dict[str, Any]] = {}
        self._stored: set[Any] = set()

    async def prefetch(self, session: AsyncSession, keys: Iterable[Any]) -> None:
        """Load the rows of `keys` not loaded yet, in a few queries."""
        wanted = [k for k in dict.fromkeys(keys) if k not in self._rows]
        stmt = _select_by_keys(self.table, self.key)
        for i in range(0, len(wanted), CHUNK):
            chunk = wanted[i : i + CHUNK]
            for k in chunk:
                self._rows[k] = None
            for row in (await session.execute(stmt, {"keys": chunk})).mappings():
                self._rows[row[self.key]] = dict(row)
                self._stored.add(row[self.key])

    async def get(self, session: AsyncSession, key: Any) -> dict[str, Any] | None:
        """The row as the batch has left it so far; None if it does not exist."""
        if key not in self._rows:
            await self.prefetch(session, [key])
        return self._rows[key]

    def put(self, row: dict[str, Any]) -> None:
        """Insert or replace a whole row."""
        if not row.keys() >= self._column_set:
            raise ValueError(f"{self.table.name} row lacks {sorted(self._column_set - row.keys())}")
        self._rows[row[self.key]] = row
        self._dirty[row[self.key]] = row

    async def change(self, session: AsyncSession, key: Any, **values: Any) -> dict[str, Any] | None:
        """Update columns of an existing row; returns it, or None (and changes nothing) if absent."""
        row = await self.get(session, key)
        if row is None:
            return None
        row.update(values)
        self._dirty[key] = row
        return row

    def stored(self, key: Any) -> bool:
        """Whether the row was in the table before this batch (rows derived from it may be too)."""
        return key in self._stored

    @property
    def changed(self) -> list[dict[str, Any]]:
        return list(self._dirty.values())

    async def flush(self, session: AsyncSession) -> list[dict[str, Any]]:
        """Write every changed row (one upsert per batch); returns them."""
        rows = self.changed
        if rows:
            await upsert(session, self.table, rows, [self.key])
        self._dirty.clear()
        return rows
