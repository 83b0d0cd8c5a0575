"""Append-only event store: per-aggregate streams plus one global position.

`(stream_id, version)` is unique, so two writers that loaded the same version
cannot both append: the second gets `ConcurrencyConflict` (HTTP 409).

Positions must appear to readers in commit order, or a reader that has seen
position 42 could later miss a slower transaction's position 41. On PostgreSQL
every append takes one transaction-scoped advisory lock before drawing positions,
so transactions that append commit one after another in position order (the
approach the eventsourcing library takes with its table lock). SQLite has a
single writer already. Gaps left by rolled-back transactions are harmless: a
reader never waits for them, it only never skips past a committed row.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    insert,
    select,
    text,
    type_coerce,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from doorstep_shared.db import UtcDateTime
from doorstep_shared.domain import Conflict, Event, EventRegistry, new_id, utcnow

POSITION = BigInteger().with_variant(Integer, "sqlite")
ADVISORY_LOCK_KEY = 0x0D005_7E9  # any constant: one event log per database


class ConcurrencyConflict(Conflict):
    title = "Concurrent modification"


@dataclasses.dataclass(frozen=True)
class CoreTables:
    events: Table
    snapshots: Table
    idempotency: Table
    relay_checkpoints: Table
    projection_tracking: Table
    projection_streams: Table
    projection_generations: Table
    relay_offsets: Table
    leases: Table


def define_core_tables(metadata: MetaData) -> CoreTables:
    """Declare the platform's tables on a service's own MetaData."""
    ts = UtcDateTime()
    events = Table(
        "events",
        metadata,
        Column("position", POSITION, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("stream_id", String(64), nullable=False),
        Column("stream_type", String(64), nullable=False),
        Column("version", Integer, nullable=False),
        Column("event_type", String(128), nullable=False),
        Column("schema_version", Integer, nullable=False, server_default="1"),
        Column("data", JSON, nullable=False),
        Column("meta", JSON, nullable=False),
        Column("recorded_at", ts, nullable=False),
        UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    )
    snapshots = Table(
        "snapshots",
        metadata,
        Column("stream_id", String(64), primary_key=True),
        Column("version", Integer, nullable=False),
        Column("state", JSON, nullable=False),
        Column("recorded_at", ts, nullable=False),
    )
    idempotency = Table(
        "idempotency_keys",
        metadata,
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response", JSON, nullable=False),
        Column("created_at", ts, nullable=False),
    )
    relay = Table(
        "relay_checkpoints",
        metadata,
        Column("name", String(100), primary_key=True),
        Column("position", POSITION, nullable=False),
        Column("updated_at", ts, nullable=False),
    )
    tracking = Table(
        "projection_tracking",
        metadata,
        Column("projection", String(100), primary_key=True),
        Column("topic", String(200), primary_key=True),
        Column("partition", Integer, primary_key=True, autoincrement=False),
        Column("offset", BigInteger, nullable=False),
        Column("updated_at", ts, nullable=False),
        # the newest relay epoch seen on the partition (see relay.py: a republished history)
        Column("epoch", Integer, nullable=False, server_default="0"),
    )
    streams = Table(
        "projection_streams",
        metadata,
        Column("projection", String(100), primary_key=True),
        Column("stream_id", String(64), primary_key=True),
        Column("version", Integer, nullable=False),
        Column("position", BigInteger, nullable=False),
    )
    generations = Table(
        "projection_generations",
        metadata,
        Column("projection", String(100), primary_key=True),
        Column("generation", Integer, nullable=False),
    )
    relay_offsets = Table(
        "relay_offsets",
        metadata,
        Column("relay", String(100), primary_key=True),
        Column("topic", String(200), primary_key=True),
        Column("partition", Integer, primary_key=True, autoincrement=False),
        Column("offset", BigInteger, nullable=False),
    )
    leases = Table(
        "leases",
        metadata,
        Column("name", String(100), primary_key=True),
        Column("holder", String(100), nullable=False),
        Column("expires_at", ts, nullable=False),
    )
    return CoreTables(events, snapshots, idempotency, relay, tracking, streams, generations, relay_offsets, leases)


@dataclasses.dataclass(frozen=True)
class StoredEvent:
    """An event as recorded: what the relay publishes and projections receive."""

    position: int
    event_id: str
    stream_id: str
    stream_type: str
    version: int
    event_type: str
    schema_version: int
    data: dict[str, Any]
    meta: dict[str, Any]
    recorded_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> StoredEvent:
        m = row._mapping
        return cls(**{f.name: m[f.name] for f in dataclasses.fields(cls)})


def decoded(value: Any) -> Any:
    """JSON as the driver returns it: SQLite's text, or what asyncpg's codec already decoded."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class Upcasters:
    """Lift stored event data from an old schema version to the next, one step at a time."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Upcaster] = {}

    def register(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        def deco(fn: Upcaster) -> Upcaster:
            self._steps[(event_type, from_version)] = fn
            return fn

        return deco

    def __len__(self) -> int:
        return len(self._steps)

    def upcast(self, event_type: str, version: int, data: dict[str, Any], target: int) -> dict[str, Any]:
        while version < target:
            step = self._steps.get((event_type, version))
            if step is None:
                raise LookupError(f"no upcaster for {event_type} v{version}")
            data = step(dict(data))
            version += 1
        return data


class EventStore:
    def __init__(
        self,
        tables: CoreTables,
        registry: EventRegistry,
        upcasters: Upcasters | None = None,
        *,
        snapshot_every: int = 0,
    ) -> None:
        self.t = tables
        self.registry = registry
        self.upcasters = upcasters or Upcasters()
        self.snapshot_every = snapshot_every
        self._immutable: OrderedDict[str, list[Event]] = OrderedDict()
        t = tables.events
        # built once: constructing a statement costs more than running it on SQLite
        self._insert = insert(t).returning(t.c.position, t.c.version)
        self._load = (
            select(t)
            .where(t.c.stream_id == bindparam("stream_id"), t.c.version > bindparam("after_version"))
            .order_by(t.c.version)
        )
        # the relay and replays read the log in bulk: its JSON is decoded here, in one step,
        # rather than through the column type's processor chain
        columns = [t.c[f.name] for f in dataclasses.fields(StoredEvent)]
        raw = [type_coerce(c, Text) if c.name in ("data", "meta") else c for c in columns]
        self._read_after = (
            select(*raw).where(t.c.position > bindparam("position")).order_by(t.c.position).limit(bindparam("limit"))
        )
        self._last_position = select(func.max(t.c.position))
        self._stream_of = select(t.c.stream_id, t.c.version).where(t.c.position == bindparam("position"))

    def remembered(self, stream_id: str) -> list[Event] | None:
        """The events of an immutable stream loaded before, if still cached."""
        return self._immutable.get(stream_id)

    def remember(self, stream_id: str, events: list[Event], limit: int = 10_000) -> None:
        self._immutable[stream_id] = events
        if len(self._immutable) > limit:
            self._immutable.popitem(last=False)

    async def append(
        self,
        session: AsyncSession,
        *,
        stream_id: str,
        stream_type: str,
        expected_version: int,
        events: Sequence[Event],
        meta: dict[str, Any] | None = None,
    ) -> list[StoredEvent]:
        """Append `events` after `expected_version`; returns them with their positions.

        The unique `(stream_id, version)` constraint is the arbiter: if another writer
        got there first, the insert fails and the whole transaction rolls back.
        """
        if not events:
            return []
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
        now = utcnow()
        rows: list[dict[str, Any]] = [
            {
                "event_id": new_id(),
                "stream_id": stream_id,
                "stream_type": stream_type,
                "version": expected_version + i + 1,
                "event_type": e.type_name(),
                "schema_version": e.schema_version,
                "data": e.to_data(),
                "meta": dict(meta or {}),
                "recorded_at": now,
            }
            for i, e in enumerate(events)
        ]
        try:
            result = await session.execute(self._insert, rows)
            positions = {version: pos for pos, version in result.all()}
        except IntegrityError as exc:  # the whole command's transaction is rolled back
            raise ConcurrencyConflict(
                f"stream {stream_id} is no longer at version {expected_version}", field="version"
            ) from exc
        return [StoredEvent(position=positions[r["version"]], **r) for r in rows]

    async def current_version(self, session: AsyncSession, stream_id: str) -> int:
        stmt = select(func.max(self.t.events.c.version)).where(self.t.events.c.stream_id == stream_id)
        return (await session.execute(stmt)).scalar() or 0

    async def load(self, session: AsyncSession, stream_id: str, after_version: int = 0) -> list[Event]:
        params = {"stream_id": stream_id, "after_version": after_version}
        rows = (await session.execute(self._load, params)).all()
        return [self.to_domain(StoredEvent.from_row(r)) for r in rows]

    def to_domain(self, stored: StoredEvent) -> Event:
        cls = self.registry.get(stored.event_type)
        data = stored.data
        if stored.schema_version < cls.schema_version:
            data = self.upcasters.upcast(stored.event_type, stored.schema_version, data, cls.schema_version)
        return cls.from_data(data)

    def upcast_stored(self, stored: StoredEvent) -> StoredEvent:
        """Return `stored` with its data lifted to the current class version."""
        if stored.event_type not in self.registry:
            return stored
        cls = self.registry.get(stored.event_type)
        if stored.schema_version >= cls.schema_version:
            return stored
        data = self.upcasters.upcast(stored.event_type, stored.schema_version, stored.data, cls.schema_version)
        return dataclasses.replace(stored, data=data, schema_version=cls.schema_version)

    async def read_after(self, session: AsyncSession, position: int, limit: int) -> list[StoredEvent]:
        rows = await self.read_rows_after(session, position, limit)
        return [
            StoredEvent(p, e, sid, st, v, et, sv, decoded(d), decoded(m), at)
            for p, e, sid, st, v, et, sv, d, m, at in rows
        ]

    async def read_rows_after(self, session: AsyncSession, position: int, limit: int) -> Sequence[Any]:
        """The log's rows after `position` as tuples in `StoredEvent`'s field order, their JSON
        not decoded yet (`decoded`): a replay turns them into what it needs in one step."""
        return (await session.execute(self._read_after, {"position": position, "limit": limit})).all()

    def current_versions(self) -> dict[str, int]:
        """Each registered event type's current schema version (older stored data is upcast)."""
        return {name: self.registry.get(name).schema_version for name in self.registry.names()}

    async def last_position(self, session: AsyncSession) -> int:
        return (await session.execute(self._last_position)).scalar() or 0

    async def stream_of(self, session: AsyncSession | AsyncConnection, position: int) -> tuple[str, int] | None:
        row = (await session.execute(self._stream_of, {"position": position})).first()
        return (row[0], row[1]) if row else None

    async def history(self, session: AsyncSession, stream_id: str) -> list[StoredEvent]:
        stmt = select(self.t.events).where(self.t.events.c.stream_id == stream_id).order_by(self.t.events.c.version)
        return [StoredEvent.from_row(r) for r in (await session.execute(stmt)).all()]

    # snapshots -------------------------------------------------------------

    async def load_snapshot(self, session: AsyncSession, stream_id: str) -> tuple[int, dict[str, Any]] | None:
        stmt = select(self.t.snapshots.c.version, self.t.snapshots.c.state).where(
            self.t.snapshots.c.stream_id == stream_id
        )
        row = (await session.execute(stmt)).first()
        return (row[0], row[1]) if row else None

    async def save_snapshot(self, session: AsyncSession, stream_id: str, version: int, state: dict[str, Any]) -> None:
        await session.execute(self.t.snapshots.delete().where(self.t.snapshots.c.stream_id == stream_id))
        await session.execute(
            insert(self.t.snapshots).values(stream_id=stream_id, version=version, state=state, recorded_at=utcnow())
        )
