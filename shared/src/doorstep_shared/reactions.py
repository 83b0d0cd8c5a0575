"""Reactions: another service's fact answered with one of this service's commands.

A hire in jobs changes a resident's employment in registration; a resident
moving out closes her applications in jobs. Such a consumer keeps no read model:
each event becomes zero or more commands, run through the service's own handler
registry (the same rules as over HTTP) in the transaction that records the
event as applied, so a redelivered event is skipped and never acted on twice.
Every command carries the event's correlation id, the event's id as causation
and the reaction as actor in its events' metadata; its handler's `ctx.now` is the
event's time, so a redelivered or replayed event is decided as the first time.

    jobs_reactions = Reactions("jobs-reactions", ["jobs.applications"])

    @jobs_reactions.on(ApplicationHired)
    def hired(event: ApplicationHired, env: Envelope) -> Command:
        return RecordHire(resident_id=event.resident_id, job_id=event.job_id)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from doorstep_shared.commands import Command, Context, HandlerRegistry
from doorstep_shared.domain import Event, as_utc
from doorstep_shared.eventstore import EventStore
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection
from doorstep_shared.uow import UnitOfWork

E = TypeVar("E", bound=Event)
Decision = Command | Iterable[Command] | None
React = Callable[[Any, Envelope], Decision]


class Reactions(Projection):
    """A projection without tables whose handlers decide commands; bound to a service at start."""

    def __init__(self, name: str, topics: Sequence[str]) -> None:
        super().__init__(name, topics)
        self._store: EventStore | None = None
        self._handlers: HandlerRegistry[Any] | None = None
        self._now: Callable[[], datetime] | None = None
        self._deps: Callable[[], Any] | None = None
        self.service = ""

    def bind(
        self,
        *,
        service: str,
        store: EventStore,
        handlers: HandlerRegistry[Any],
        now: Callable[[], datetime],
        deps: Callable[[], Any],
    ) -> None:
        """Give the reactions the service's store, handlers, clock and dependencies."""
        self.service, self._store, self._handlers, self._now, self._deps = service, store, handlers, now, deps

    def react(
        self, *event_types: type[E]
    ) -> Callable[[Callable[[E, Envelope], Decision]], Callable[[E, Envelope], Decision]]:
        """Register a decision: the event (as its contract class) -> the commands to run."""

        def deco(fn: Callable[[E, Envelope], Decision]) -> Callable[[E, Envelope], Decision]:
            for event_type in event_types:

                async def handle(session: AsyncSession, env: Envelope, _cls: type[E] = event_type) -> None:
                    await self._run(session, env, fn(env.event(_cls), env))

                self.on(event_type)(handle)
            return fn

        return deco

    async def _run(self, session: AsyncSession, env: Envelope, decision: Decision) -> None:
        if decision is None:
            return
        commands = [decision] if isinstance(decision, Command) else list(decision)
        if not commands:
            return
        if self._store is None or self._handlers is None or self._now is None or self._deps is None:
            raise RuntimeError(f"reactions {self.name} are not bound to a service")
        meta = {
            "correlation_id": env.correlation_id,
            "causation_id": env.event_id,
            "actor": f"{self.service}.{self.name}",
        }
        uow = UnitOfWork(session, self._store, meta)
        # a reaction acts as of the event it answers: a replay decides as the first run did
        now, deps = (as_utc(env.time) if env.time else self._now()), self._deps()
        for cmd in commands:
            uow.meta = {**meta, "command": type(cmd).__name__}
            await self._handlers[type(cmd)](cmd, Context(uow=uow, actor=None, now=now, deps=deps))
            await uow.flush()
