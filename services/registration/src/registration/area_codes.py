"""Areas recorded before codes were checked by segment, found and reported at start.

An area's code is its parent's plus one fixed-length segment
(`doorstep_shared.areas`); `POST /areas` refuses any other. Areas the log
already holds stay as they are: events are facts and are never rewritten, so
the log is read at every start and each area whose code breaks the rule is
named in one warning until an operator replaces it. Such areas keep working
for reads (`GET /areas/{code}` and the city admin's queries); only the
city-wide scope reaches them, since scope compares whole segments.
"""

from __future__ import annotations

import logging

from doorstep_contracts.registration import AreaCreated
from doorstep_shared.areas import code_problem
from doorstep_shared.eventstore import StoredEvent
from doorstep_shared.runtime import Runtime
from sqlalchemy import select

log = logging.getLogger("doorstep.registration")


async def recorded_areas(runtime: Runtime) -> list[AreaCreated]:
    """Every area in the log, in the order created."""
    events = runtime.store.t.events
    stmt = (
        select(events)
        .where(events.c.stream_type == "areas", events.c.event_type == "AreaCreated")
        .order_by(events.c.position)
    )
    async with runtime.db.session() as s:
        rows = (await s.execute(stmt)).all()
    found = [runtime.store.to_domain(StoredEvent.from_row(r)) for r in rows]
    return [e for e in found if isinstance(e, AreaCreated)]


def breaking_the_rule(areas: list[AreaCreated]) -> list[tuple[AreaCreated, str]]:
    """The areas whose code (or parent) breaks the segment rule, each with what it breaks."""
    levels = {a.code: a.level for a in areas}
    out = []
    for a in areas:
        parent_level = levels.get(a.parent_code) if a.parent_code is not None else None
        problem = code_problem(a.code, a.level, a.parent_code, parent_level)
        if problem is not None:
            out.append((a, problem[1]))
    return out


async def report_irregular_areas(runtime: Runtime) -> None:
    """Log, once per start, the areas whose codes break the segment rule (nothing when none do)."""
    found = breaking_the_rule(await recorded_areas(runtime))
    if not found:
        return
    listed = "; ".join(f"{a.code} ({a.level}: {why})" for a, why in found)
    log.warning(
        "%d area code(s) break the segment rule; they stay readable, only a city admin acts in them: %s",
        len(found),
        listed,
        extra={"area_codes": [a.code for a, _ in found]},
    )
