"""Unit of work: one transaction in which a command loads aggregates and appends events.

Idempotency records live in the same transaction as the events they answer
for, so a retried command (same `Idempotency-Key`) gets the first answer back
and never appends twice, even when both attempts race.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from doorstep_shared.db import Database
from doorstep_shared.domain import Aggregate, Conflict, NotFound, utcnow
from doorstep_shared.eventstore import ConcurrencyConflict, EventStore, StoredEvent

A = TypeVar("A", bound=Aggregate)


@dataclasses.dataclass
class CommandResult:
    """What a command answers: the aggregate, its new version and the log position."""

    id: str
    version: int
    position: int
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "position": self.position, **self.extra}


class UnitOfWork:
    def __init__(self, session: AsyncSession, store: EventStore, meta: dict[str, Any]) -> None:
        self.session = session
        self.store = store
        self.meta = meta
        self._seen: dict[str, tuple[Aggregate, int]] = {}
        self.appended: list[StoredEvent] = []

    async def get(self, cls: type[A], aggregate_id: str, *, what: str | None = None) -> A:
        agg = await self.find(cls, aggregate_id)
        if agg is None:
            raise NotFound(f"{what or cls.__name__.lower()} {aggregate_id} not found", field="id")
        return agg

    async def find(self, cls: type[A], aggregate_id: str) -> A | None:
        if aggregate_id in self._seen:
            agg = self._seen[aggregate_id][0]
            return agg if isinstance(agg, cls) else None
        snapshot = await self.store.load_snapshot(self.session, aggregate_id) if self.store.snapshot_every else None
        if snapshot is not None:
            version, state = snapshot
            agg = cls(aggregate_id)
            agg.restore_state(state)
            agg.version = version
            for event in await self.store.load(self.session, aggregate_id, after_version=version):
                agg.apply(event)
                agg.version += 1
        else:
            events = self.store.remembered(aggregate_id) if cls.immutable else None
            if events is None:
                events = await self.store.load(self.session, aggregate_id)
                if not events:
                    return None
                if cls.immutable:
                    self.store.remember(aggregate_id, events)
            agg = cls.replay(aggregate_id, events)
        self._seen[aggregate_id] = (agg, agg.version)
        return agg

    def add(self, agg: Aggregate) -> None:
        if agg.id in self._seen:
            raise Conflict(f"{agg.stream_type} {agg.id} already exists", field="id")
        self._seen[agg.id] = (agg, 0)

    async def flush(self) -> list[StoredEvent]:
        """Append every tracked aggregate's new events, checking its loaded version."""
        out: list[StoredEvent] = []
        for agg_id, (agg, loaded_version) in list(self._seen.items()):
            events = agg.collect()
            if not events:
                continue
            if agg.immutable and loaded_version > 0:
                raise TypeError(f"{type(agg).__name__} is immutable: {agg.id} already exists")
            stored = await self.store.append(
                self.session,
                stream_id=agg.id,
                stream_type=agg.stream_type,
                expected_version=loaded_version,
                events=events,
                meta=self.meta,
            )
            self._seen[agg_id] = (agg, agg.version)
            out.extend(stored)
            every = self.store.snapshot_every
            if every and agg.version // every > loaded_version // every:
                snap = agg.snapshot_state()  # only when one is due: it may be costly
                if snap is not None:
                    await self.store.save_snapshot(self.session, agg.id, agg.version, snap)
        self.appended.extend(out)
        return out

    def result(self, agg: Aggregate, **extra: Any) -> CommandResult:
        position = max((e.position for e in self.appended if e.stream_id == agg.id), default=0)
        return CommandResult(id=agg.id, version=agg.version, position=position, extra=extra)


Handler = Callable[[UnitOfWork], Awaitable[CommandResult]]


@dataclasses.dataclass
class IdempotentReply:
    status_code: int
    body: dict[str, Any]
    replayed: bool


def fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


async def execute(
    db: Database,
    store: EventStore,
    handler: Handler,
    *,
    meta: dict[str, Any],
    idempotency_key: str | None = None,
    request_fingerprint: str = "",
    status_code: int = 200,
    after_commit: Callable[[], None] | None = None,
    retries: int = 0,
) -> IdempotentReply:
    """Run `handler` in one transaction; replay the stored reply for a known key.

    With `retries`, a command that lost an optimistic-concurrency race is run
    again from a fresh load (the handler re-decides on the new state).
    """
    for attempt in range(retries + 1):
        try:
            return await _execute_once(
                db,
                store,
                handler,
                meta=meta,
                idempotency_key=idempotency_key,
                request_fingerprint=request_fingerprint,
                status_code=status_code,
                after_commit=after_commit,
            )
        except ConcurrencyConflict:
            if attempt == retries:
                raise
    raise AssertionError("unreachable")


async def _execute_once(
    db: Database,
    store: EventStore,
    handler: Handler,
    *,
    meta: dict[str, Any],
    idempotency_key: str | None,
    request_fingerprint: str,
    status_code: int,
    after_commit: Callable[[], None] | None,
) -> IdempotentReply:
    table = store.t.idempotency
    if idempotency_key:
        found = await _stored_reply(db, table, idempotency_key, request_fingerprint)
        if found is not None:
            return found
    try:
        async with db.transaction() as session:
            uow = UnitOfWork(session, store, meta)
            result = await handler(uow)
            await uow.flush()
            if result.position == 0 and uow.appended:
                result.position = max(e.position for e in uow.appended)
            body = result.to_json()
            if idempotency_key:
                await session.execute(
                    insert(table).values(
                        key=idempotency_key,
                        request_hash=request_fingerprint,
                        status_code=status_code,
                        response=body,
                        created_at=utcnow(),
                    )
                )
    except (IntegrityError, ConcurrencyConflict):
        if idempotency_key:  # a concurrent attempt with the same key won the race
            found = await _stored_reply(db, table, idempotency_key, request_fingerprint)
            if found is not None:
                return found
        raise
    if after_commit is not None:
        after_commit()
    return IdempotentReply(status_code, body, replayed=False)


async def _stored_reply(db: Database, table: Any, key: str, request_hash: str) -> IdempotentReply | None:
    async with db.session() as s:
        row = (await s.execute(select(table).where(table.c.key == key))).first()
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise Conflict("Idempotency-Key was already used with a different request", field="Idempotency-Key")
    return IdempotentReply(row.status_code, row.response, replayed=True)
