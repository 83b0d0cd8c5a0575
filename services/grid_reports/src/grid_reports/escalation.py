"""The escalation sweep: every overdue case climbs one level of the area tree.

Loading 100,000 aggregates one by one would take minutes, so the sweep is
set-based: it range-scans the `case_deadlines` read model on its `due_at`
index and appends `CaseEscalated` events straight into the event log in
batches, each batch one transaction.

The read model is fed from Kafka and may lag behind the log. A row is acted on
only when no event newer than the version it reflects exists in the log (the
`NOT EXISTS` below probes the `(stream_id, version)` unique index), so a case
just accepted, or already escalated by the previous sweep, is never escalated
from stale data; its row is looked at again once the projection has caught up.
On PostgreSQL the sweep takes the event store's append lock first, so no
command can slip a version in between the check and the insert.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from doorstep_contracts.grid_reports import CaseEscalated
from doorstep_shared.db import Database
from doorstep_shared.domain import as_utc, utcnow
from doorstep_shared.eventstore import ADVISORY_LOCK_KEY, CoreTables
from sqlalchemy import (
    DateTime,
    Integer,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from grid_reports.domain.model import Case
from grid_reports.domain.rules import CATEGORIES, LEVEL_CODE_LENGTH, LEVELS, STEPS, Policy
from grid_reports.models import deadlines

if TYPE_CHECKING:
    from doorstep_shared.runtime import Runtime

    from grid_reports.deps import GridReportsDeps

log = logging.getLogger("grid_reports.escalation")
SYSTEM_ACTOR = "system:escalation"
STREAM_TYPE = Case.stream_type
EVENT_TYPE = CaseEscalated.type_name()
SQLITE_CACHE_KIB = 65536


async def sweep(
    db: Database,
    core: CoreTables,
    policy: Policy,
    now: datetime,
    *,
    batch_size: int = 200_000,
) -> int:
    """Escalate every case whose deadline is at or before `now`; returns how many.

    Each batch is one `INSERT INTO events ... SELECT ... FROM case_deadlines`:
    the events are built by the database (JSON, ids, next level and area), so
    the time per case is an index probe and a row write. Rows escalated by an
    earlier batch drop out of the next one by the same `NOT EXISTS` guard.
    """
    now = as_utc(now)
    total = 0
    while True:
        async with db.transaction() as session:
            count = await _escalate_batch(session, core, policy, now, batch_size)
        total += count
        if count < batch_size:
            return total


def _next_level() -> Any:
    d = deadlines
    return case(*[(d.c.level == low, high) for low, high in itertools.pairwise(LEVELS)])


def _area_code() -> Any:
    d = deadlines
    length = case(*[(d.c.level == low, LEVEL_CODE_LENGTH[high]) for low, high in itertools.pairwise(LEVELS)])
    return func.substr(func.coalesce(d.c.grid_code, d.c.community_code), 1, length)


def _new_due(policy: Policy, now: datetime) -> Any:
    """The next level's deadline: the same step's limit again, from now."""
    d = deadlines
    whens = [
        (
            and_(d.c.category == category, d.c.step == step),
            policy.due(category, step, now).isoformat(),
        )
        for category in CATEGORIES
        for step in STEPS
    ]
    return case(*whens, else_=literal(None, String))


async def _escalate_batch(
    session: AsyncSession, core: CoreTables, policy: Policy, now: datetime, batch_size: int
) -> int:
    dialect = session.get_bind().dialect.name
    d = deadlines
    if dialect == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
        json_object: Any = func.json_build_object
        event_id: Any = cast(func.gen_random_uuid(), String)
        overdue_since: Any = func.to_char(func.timezone("UTC", d.c.due_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
    else:
        # The inserts land at random places in the log's two unique indexes; a larger
        # page cache for this connection keeps those pages in memory (SQLite only).
        await session.execute(text(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}"))
        json_object = func.json_object
        event_id = func.lower(
            func.hex(func.randomblob(4))
            + "-"
            + func.hex(func.randomblob(2))
            + "-"
            + func.hex(func.randomblob(2))
            + "-"
            + func.hex(func.randomblob(2))
            + "-"
            + func.hex(func.randomblob(6))
        )
        # SQLAlchemy keeps SQLite datetimes as "YYYY-MM-DD HH:MM:SS.ffffff" in UTC.
        overdue_since = func.replace(d.c.due_at, " ", "T") + "+00:00"
    data = json_object(
        "case_id",
        d.c.case_id,
        "from_level",
        d.c.level,
        "to_level",
        _next_level(),
        "area_code",
        _area_code(),
        "step",
        d.c.step,
        "overdue_since",
        overdue_since,
        "escalated_at",
        literal(now.isoformat(), String),
        "due_at",
        _new_due(policy, now),
    )
    meta = json_object(
        "actor",
        literal(SYSTEM_ACTOR, String),
        "correlation_id",
        literal(f"escalation-{now.isoformat()}", String),
    )
    rows = select(
        event_id,
        d.c.case_id,
        literal(STREAM_TYPE, String),
        d.c.version + 1,
        literal(EVENT_TYPE, String),
        literal(CaseEscalated.schema_version, Integer),
        data,
        meta,
        literal(utcnow(), DateTime(timezone=True)),
    )
    newer = exists().where(core.events.c.stream_id == d.c.case_id, core.events.c.version > d.c.version)
    rows = rows.where(d.c.due_at <= now, d.c.level != LEVELS[-1], ~newer).order_by(d.c.due_at).limit(batch_size)
    e = core.events
    columns = [
        e.c.event_id,
        e.c.stream_id,
        e.c.stream_type,
        e.c.version,
        e.c.event_type,
        e.c.schema_version,
        e.c.data,
        e.c.meta,
        e.c.recorded_at,
    ]
    result = await session.execute(insert(e).from_select(columns, rows))
    return int(result.rowcount)  # type: ignore[attr-defined]


def escalation_hook(*, interval: float, batch_size: int) -> Callable[[Runtime], Awaitable[None]]:
    """A background task that sweeps every `interval` seconds, at the service clock's time
    (read on each tick, so a clock the tests move is followed)."""

    async def escalation_sweep(runtime: Runtime) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                deps: GridReportsDeps = runtime.deps
                now = runtime.now()
                count = await sweep(runtime.db, runtime.definition.core, deps.policy, now, batch_size=batch_size)
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed sweep is retried on the next tick
                log.exception("escalation sweep failed")
                continue
            if count:
                log.info("escalated %d overdue cases", count)
                runtime.relay.notify()

    return escalation_sweep
