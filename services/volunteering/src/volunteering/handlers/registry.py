"""The service's handler registry, and how its handlers load the streams they change.

Each handler runs inside one unit of work (one transaction). Rules that span
aggregates or need other services' facts (is this a registered resident, is
this staff member a team leader, does this shift overlap another of the
volunteer's) are checked against the read models in the same transaction.

Hot aggregates: a sign-up storm sends hundreds of commands at one activity at
once. On PostgreSQL each handler first takes a transaction-scoped advisory lock
on the stream it is about to change, so those commands queue instead of
failing their optimistic-concurrency check; the version check stays as the
last line of defence (and the API retries a lost race from a fresh load).
SQLite already serialises writers.
"""

from __future__ import annotations

from typing import TypeVar

from doorstep_shared.commands import HandlerRegistry
from doorstep_shared.domain import Aggregate, InvalidInput
from doorstep_shared.uow import UnitOfWork
from sqlalchemy import text

from volunteering.deps import VolunteeringDeps
from volunteering.domain.activities import Activity
from volunteering.domain.ledger import Ledger
from volunteering.domain.teams import Team
from volunteering.models import Resident

A = TypeVar("A", bound=Aggregate)

handlers = HandlerRegistry[VolunteeringDeps]()


async def lock(uow: UnitOfWork, stream_id: str) -> None:
    """Queue writers of one stream (PostgreSQL); a no-op on SQLite's single writer."""
    if uow.session.get_bind().dialect.name == "postgresql":
        await uow.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:sid), 1)"), {"sid": stream_id})


async def load(uow: UnitOfWork, cls: type[A], aggregate_id: str, what: str) -> A:
    await lock(uow, aggregate_id)
    return await uow.get(cls, aggregate_id, what=what)


async def ledger_of(uow: UnitOfWork, resident_id: str) -> Ledger:
    """A volunteer's ledger, opened on first use."""
    await lock(uow, resident_id)
    ledger = await uow.find(Ledger, resident_id)
    if ledger is None:
        ledger = Ledger(resident_id)
        uow.add(ledger)
    return ledger


async def activity_and_team(uow: UnitOfWork, activity_id: str) -> tuple[Activity, Team]:
    activity = await load(uow, Activity, activity_id, "activity")
    team = await uow.get(Team, activity.team_id, what="team")
    return activity, team


async def require_active_resident(uow: UnitOfWork, resident_id: str) -> Resident:
    row = await uow.session.get(Resident, resident_id)
    if row is None or row.status != "active":
        state = "not a registered resident" if row is None else f"{row.status.replace('_', ' ')}"
        raise InvalidInput(f"resident {resident_id} is {state}", field="resident_id")
    return row
