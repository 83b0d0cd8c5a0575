"""Unit of work: one transaction in which a command loads aggregates and appends events.

Idempotency records live in the same transaction as the events they answer
for, so a retried command (same `Idempotency-Key`) gets the first answer back
and never appends twice, even when both attempts race (see `idempotency`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from doorstep_shared.db import Database
from doorstep_shared.domain import Aggregate, Conflict, DomainError, NotFound
from doorstep_shared.eventstore import ConcurrencyConflict, EventStore, StoredEvent
from doorstep_shared.idempotency import (
    DEFAULT_TTL,
    IdempotentReply,
    KeyReused,
    purge_now_and_then,
    remember,
    serialise_attempts,
    storage_key,
    stored_reply,
)

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
    idempotency_ttl: timedelta = DEFAULT_TTL,
) -> IdempotentReply:
    """Run `handler` in one transaction; replay the stored reply for a known key.

    With `retries`, a command that lost an optimistic-concurrency race is run
    again from a fresh load (the handler re-decides on the new state).
    """
    key = storage_key(idempotency_key) if idempotency_key else None
    for attempt in range(retries + 1):
        try:
            reply = await _execute_once(
                db,
                store,
                handler,
                meta=meta,
                key=key,
                request_fingerprint=request_fingerprint,
                status_code=status_code,
                ttl=idempotency_ttl,
            )
        except ConcurrencyConflict:
            if attempt == retries:
                raise
            continue
        if not reply.replayed and after_commit is not None:
            after_commit()
        if key is not None:
            purge_now_and_then(db, store.t.idempotency, idempotency_ttl)
        return reply
    raise AssertionError("unreachable")


async def _execute_once(
    db: Database,
    store: EventStore,
    handler: Handler,
    *,
    meta: dict[str, Any],
    key: str | None,
    request_fingerprint: str,
    status_code: int,
    ttl: timedelta,
) -> IdempotentReply:
    table = store.t.idempotency
    try:
        async with db.transaction() as session:
            if key is not None:
                # after this, attempts with the same key are ordered: a later one sees the first's reply
                await serialise_attempts(session, key)
                found = await stored_reply(session, table, key, request_fingerprint, ttl)
                if found is not None:
                    return found
            uow = UnitOfWork(session, store, meta)
            result = await handler(uow)
            await uow.flush()
            if result.position == 0 and uow.appended:
                result.position = max(e.position for e in uow.appended)
            body = result.to_json()
            if key is not None:
                await remember(session, table, key, request_fingerprint, status_code, body)
    except (IntegrityError, DomainError) as exc:
        # the transactions above are ordered, so a racing attempt's reply was already seen;
        # this is a last check for a backend that let two through (the key's unique row stops the second)
        if key is not None and not isinstance(exc, KeyReused):
            async with db.session() as session:
                found = await stored_reply(session, table, key, request_fingerprint, ttl)
            if found is not None:
                return found
        raise
    return IdempotentReply(status_code, body, replayed=False)
