"""Idempotency keys: a retried command gets the first answer back, even when the attempts race.

Identical attempts may arrive at once, on several API processes. Each attempt
therefore looks its key up *inside* its write transaction, after the
transactions of the other attempts have been ordered before or after it:
SQLite has one writer at a time (BEGIN IMMEDIATE, across processes); on
PostgreSQL an attempt first takes a transaction-scoped advisory lock on a hash
of its key, so attempts with one key run one after another while other
commands go on in parallel. The later attempt then finds the first one's reply
instead of running the handler again (where it would fail with "already
exists", a 409 the client never asked for).

Keys are scoped to the caller and the route (`subject:method:path:key`). A scoped
key too long for the column is stored as its SHA-256 digest. Keys expire after
`IDEMPOTENCY_TTL_HOURS`: an expired key is unknown, and expired rows are deleted
in small batches by a background purge that runs at most every few minutes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
import weakref
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from doorstep_shared.db import Database
from doorstep_shared.domain import Conflict, InvalidInput, utcnow

log = logging.getLogger("doorstep.idempotency")

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200  # what a client may send; also the width of the stored column
DEFAULT_TTL = timedelta(hours=24)
PURGE_EVERY_S = 300.0
PURGE_BATCH = 500
# first half of PostgreSQL's two-int advisory lock key: keys of this kind never meet
# the event log's single-bigint lock (the two key spaces do not overlap)
_LOCK_CLASS = 0x1DE7


class KeyReused(Conflict):
    """The key already answered a different request (a client bug, never retried)."""


@dataclasses.dataclass
class IdempotentReply:
    status_code: int
    body: dict[str, Any]
    replayed: bool


def checked_key(key: str | None) -> str | None:
    """The client's key, or a 422 naming the header; an empty header means no key."""
    if not key:
        return None
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"at most {MAX_KEY_LENGTH} characters", field=HEADER)
    if not key.isprintable():
        raise InvalidInput("printable characters only", field=HEADER)
    return key


def storage_key(scoped: str) -> str:
    """What is stored: the scoped key itself when it fits the column, else its digest.

    A scoped key always holds three colons before the client's part, so it never
    looks like `sha256:<hex>`, and rows written before digests existed still match.
    """
    if len(scoped) <= MAX_KEY_LENGTH:
        return scoped
    return "sha256:" + hashlib.sha256(scoped.encode()).hexdigest()


async def serialise_attempts(session: AsyncSession, key: str) -> None:
    """PostgreSQL: wait for any other transaction running this key (SQLite: one writer already)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(key.encode()).digest()
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:c, :k)"),
        {"c": _LOCK_CLASS, "k": int.from_bytes(digest[:4], "big", signed=True)},
    )


async def stored_reply(
    session: AsyncSession, table: Any, key: str, request_hash: str, ttl: timedelta
) -> IdempotentReply | None:
    """The first answer to this key, if it has not expired; an expired row is dropped here."""
    row = (await session.execute(select(table).where(table.c.key == key))).first()
    if row is None:
        return None
    if row.created_at < utcnow() - ttl:
        await session.execute(delete(table).where(table.c.key == key))
        return None
    if row.request_hash != request_hash:
        raise KeyReused(f"{HEADER} was already used with a different request", field=HEADER)
    return IdempotentReply(row.status_code, row.response, replayed=True)


async def remember(
    session: AsyncSession, table: Any, key: str, request_hash: str, status_code: int, body: dict[str, Any]
) -> None:
    await session.execute(
        insert(table).values(
            key=key, request_hash=request_hash, status_code=status_code, response=body, created_at=utcnow()
        )
    )


async def purge_expired_keys(db: Database, table: Any, ttl: timedelta, batch: int = PURGE_BATCH) -> int:
    """Delete expired keys, a batch per short transaction so that commands queue only briefly.

    The oldest rows come first in the table's physical order, so each batch's
    scan stops early even without an index on `created_at`.
    """
    total = 0
    while True:
        cutoff = utcnow() - ttl
        expired = select(table.c.key).where(table.c.created_at < cutoff).limit(batch)
        async with db.transaction() as session:
            result = await session.execute(delete(table).where(table.c.key.in_(expired)))
        deleted = max(getattr(result, "rowcount", 0) or 0, 0)
        total += deleted
        if deleted < batch:
            return total
        await asyncio.sleep(0)


_last_purge: weakref.WeakKeyDictionary[Database, float] = weakref.WeakKeyDictionary()
_purges: set[asyncio.Task[Any]] = set()


def purge_now_and_then(db: Database, table: Any, ttl: timedelta) -> None:
    """Start a background purge when the last one in this process is older than `PURGE_EVERY_S`."""
    now = time.monotonic()
    last = _last_purge.get(db)
    if last is not None and now - last < PURGE_EVERY_S:
        return
    _last_purge[db] = now
    task = asyncio.get_running_loop().create_task(_purge_quietly(db, table, ttl))
    _purges.add(task)
    task.add_done_callback(_purges.discard)


async def _purge_quietly(db: Database, table: Any, ttl: timedelta) -> None:
    try:
        deleted = await purge_expired_keys(db, table, ttl)
        if deleted:
            log.info("deleted %d expired idempotency keys", deleted)
    except Exception as exc:  # the next purge tries again; commands never depend on it
        log.warning("purging expired idempotency keys failed: %s", exc)
