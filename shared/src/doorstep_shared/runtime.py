"""Composition root shared by the services: wires database, store, relay, projections, API.

A service describes itself in a `ServiceDefinition`; `create_app` turns that
into a FastAPI application whose lifespan runs the outbox relay and the
projection runners beside the HTTP API, in one process per service.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import importlib.resources
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from asgi_correlation_id import correlation_id
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import MetaData

from doorstep_shared.asyncapi import build_asyncapi
from doorstep_shared.auth import ApiKeyResolver, Principal, TokenVerifier
from doorstep_shared.commands import Command, Context, HandlerRegistry
from doorstep_shared.db import Database
from doorstep_shared.domain import Event, EventRegistry, as_utc, utcnow
from doorstep_shared.eventstore import CoreTables, EventStore, Upcasters
from doorstep_shared.idempotency import HEADER as IDEMPOTENCY_HEADER
from doorstep_shared.idempotency import checked_key
from doorstep_shared.inputs import MAX_POSITION
from doorstep_shared.messaging import TopicEnsurer, make_broker
from doorstep_shared.migrations import upgrade
from doorstep_shared.observability import configure_logging, install_observability
from doorstep_shared.openapi import install_openapi
from doorstep_shared.problems import install_problem_handlers
from doorstep_shared.projections import Projection, ProjectionRunner
from doorstep_shared.reactions import Reactions
from doorstep_shared.rebuild import Rebuild
from doorstep_shared.relay import OutboxRelay
from doorstep_shared.settings import ProcessRole, ServiceSettings
from doorstep_shared.uow import CommandResult, Handler, UnitOfWork, execute, fingerprint

log = logging.getLogger("doorstep.runtime")

Hook = Callable[["Runtime"], Awaitable[None]]


@dataclasses.dataclass
class ServiceDefinition:
    name: str
    title: str
    description: str
    package: str
    metadata: MetaData
    core: CoreTables
    registry: EventRegistry
    routers: Sequence[APIRouter]
    projections: Sequence[Projection] = ()
    own_projection: str | None = None
    upcasters: Upcasters = dataclasses.field(default_factory=Upcasters)
    published: Mapping[str, Sequence[type[Event]]] = dataclasses.field(default_factory=dict)
    api_key_resolver: Callable[[Runtime], ApiKeyResolver] | None = None
    on_startup: Sequence[Hook] = ()
    background: Sequence[Hook] = ()
    snapshot_every: int = 0
    # the one command path: handlers by command type, the typed dependencies they are
    # given (built once the runtime starts), and the clock they read
    handlers: HandlerRegistry[Any] = dataclasses.field(default_factory=HandlerRegistry)
    dependencies: Callable[[Runtime], Any] | None = None
    clock: Callable[[], datetime] = utcnow
    # how often a command that lost an optimistic-concurrency race is run again from a fresh load
    command_retries: int = 0
    # the store that projections reacting with commands were built with, so that
    # they and the service's own commands share one (caches, upcasters, snapshots)
    store: EventStore | None = None
    # False when query APIs read state that projections keep in process memory (an
    # index, not a table): then API and projections must share one process
    splits_into_api_and_worker: bool = True

    def __post_init__(self) -> None:
        """A store passed in must be the one the definition describes, or commands and
        reactions would read the same streams differently."""
        store = self.store
        if store is None:
            return
        if store.t is not self.core or store.registry is not self.registry:
            raise ValueError(f"{self.name}: the event store is built on other tables or another event registry")
        if store.snapshot_every != self.snapshot_every:
            raise ValueError(
                f"{self.name}: the event store snapshots every {store.snapshot_every} events, "
                f"the definition every {self.snapshot_every}"
            )
        if store.upcasters is not self.upcasters and (len(store.upcasters) or len(self.upcasters)):
            raise ValueError(f"{self.name}: the event store and the definition have different upcasters")

    @property
    def migrations_path(self) -> Path:
        return Path(str(importlib.resources.files(self.package) / "migrations"))


class Runtime:
    """Everything a running service holds; reachable as `request.app.state.runtime`."""

    def __init__(self, definition: ServiceDefinition, settings: ServiceSettings) -> None:
        if settings.role != ProcessRole.ALL and not definition.splits_into_api_and_worker:
            raise ValueError(
                f"{definition.name}: its queries read what its projections keep in memory; "
                f"run it as one process (DOORSTEP_ROLE=all), not as {settings.role.value}"
            )
        self.definition = definition
        self.freeze_gc = False  # set by a process that runs only this service (`doorstep serve`)
        self.settings = settings
        self.name = definition.name
        self.db = Database(settings.resolved_database_url)
        self.store = definition.store or EventStore(
            definition.core,
            definition.registry,
            definition.upcasters,
            snapshot_every=definition.snapshot_every,
        )
        self.handlers = definition.handlers
        self.clock = definition.clock  # tests and demos move time by replacing it
        self._deps: Any = None
        for projection in definition.projections:
            if isinstance(projection, Reactions):
                projection.bind(
                    service=definition.name,
                    store=self.store,
                    handlers=self.handlers,
                    now=self.now,
                    deps=lambda: self.deps,
                )
        self.relay = OutboxRelay(
            db=self.db,
            store=self.store,
            broker=make_broker(settings, client_suffix="-relay"),
            service=definition.name,
            topic_prefix=settings.topic_prefix,
            batch_size=settings.relay_batch_size,
            poll_interval=settings.relay_interval,
            topics=TopicEnsurer(
                settings.kafka_bootstrap_servers,
                settings.kafka_topic_partitions,
                settings.kafka_replication_factor,
            ),
            bootstrap_servers=settings.kafka_bootstrap_servers,
            lease_ttl=settings.relay_lease_seconds,
        )
        self.runners = {
            p.name: ProjectionRunner(
                db=self.db,
                tables=definition.core,
                projection=p,
                broker_factory=lambda: make_broker(settings, client_suffix="-projection"),
                service=definition.name,
                topic_prefix=settings.topic_prefix,
                fetch_max_wait_ms=(
                    settings.kafka_fetch_max_wait_ms
                    if p.name == definition.own_projection
                    else settings.kafka_background_fetch_max_wait_ms
                ),
                max_attempts=settings.projection_max_attempts,
                topics=TopicEnsurer(
                    settings.kafka_bootstrap_servers,
                    settings.kafka_topic_partitions,
                    settings.kafka_replication_factor,
                ),
            )
            for p in definition.projections
        }
        self.verifier: TokenVerifier | None = None
        self.api_key_resolver: ApiKeyResolver | None = None
        self.rebuilds: dict[str, tuple[Rebuild, asyncio.Task[Any]]] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        self._runners_started: set[str] = set()
        self._asyncapi: dict[str, Any] | None = None

    # lifecycle --------------------------------------------------------------------

    def now(self) -> datetime:
        """The service clock's reading, in UTC."""
        return as_utc(self.clock())

    @property
    def deps(self) -> Any:
        """The service's typed dependencies (what its handlers and queries are given)."""
        if self._deps is None and self.definition.dependencies is not None:
            self._deps = self.definition.dependencies(self)
        return self._deps

    async def start(self) -> None:
        await upgrade(self.db, self.definition.migrations_path)
        self.verifier = self._load_verifier()
        _ = self.deps  # built before the first request, so a bad key or setting stops the start
        if self.definition.api_key_resolver is not None:
            self.api_key_resolver = self.definition.api_key_resolver(self)
        for hook in self.definition.on_startup:
            await hook(self)
        if self.settings.runs_worker_tasks:
            self._spawn(self.relay.run(), "relay")
            for name in self.runners:
                self._spawn(self._start_runner(name), f"projection-{name}")
            for hook in self.definition.background:
                self._spawn(hook(self), getattr(hook, "__name__", "background"))
        if self.freeze_gc:
            # what startup made (modules, routes, compiled statements) lives as long as the
            # process; frozen, a full collection no longer walks it: ~10 ms pauses, not ~100 ms
            gc.collect()
            gc.freeze()

    def _load_verifier(self) -> TokenVerifier:
        path = self.settings.public_key_path()
        if not path.exists():
            raise RuntimeError(f"JWT public key not found at {path}")
        return TokenVerifier(path.read_bytes(), issuer=self.settings.jwt_issuer, audience=self.settings.jwt_audience)

    async def _start_runner(self, name: str) -> None:
        delay = 0.2
        while True:
            try:
                await self.runners[name].start()
                self._runners_started.add(name)
                return
            except Exception as exc:  # broker not up yet: keep trying
                log.warning("projection %s waiting for the broker: %s", name, exc)
                with contextlib.suppress(Exception):
                    await self.runners[name].stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _spawn(self, coro: Awaitable[Any], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(f"{self.name}-{name}")
        self._tasks.append(task)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=10)
            for task in pending:
                log.error("task %s did not stop", task.get_name())
        self._tasks.clear()
        for runner in self.runners.values():
            with contextlib.suppress(Exception):
                await runner.stop()
        await self.relay.close()
        if self.relay.topics is not None:
            with contextlib.suppress(Exception):
                await self.relay.topics.close()
        await self.db.dispose()

    async def wait_consuming(self, timeout: float = 30.0) -> bool:
        """Wait until every projection has joined its consumer group (start-up, tests)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        runners = self.runners.values() if self.settings.runs_worker_tasks else ()
        while not all(r.consuming for r in runners):
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def broker_status(self) -> str:
        if not self.settings.runs_worker_tasks:
            return "ok"  # an API process does not talk to the broker
        if self.relay.last_error:
            return f"relay: {self.relay.last_error}"
        missing = set(self.runners) - self._runners_started
        if missing:
            return f"projections not connected: {', '.join(sorted(missing))}"
        return "ok"

    # commands and consistent reads --------------------------------------------------

    async def command(
        self,
        handler: Handler,
        *,
        principal: Principal | None,
        request: Request,
        payload: Any = None,
        status_code: int = 201,
        retries: int = 0,
    ) -> JSONResponse:
        """Run a command handler in one transaction; `retries` re-runs it after a lost race."""
        key = checked_key(request.headers.get(IDEMPOTENCY_HEADER))
        path = request.scope["path"]  # not request.url: building a URL object costs more than the rest of this
        scoped = f"{principal.subject if principal else '-'}:{request.method}:{path}:{key}" if key else None
        meta = {
            "correlation_id": correlation_id.get(),
            "actor": principal.subject if principal else None,
            "command": f"{request.method} {path}",
        }
        reply = await execute(
            self.db,
            self.store,
            handler,
            meta=meta,
            idempotency_key=scoped,
            request_fingerprint=fingerprint(payload) if key else "",
            status_code=status_code,
            after_commit=self.relay.notify,
            retries=retries,
            idempotency_ttl=timedelta(hours=self.settings.idempotency_ttl_hours),
        )
        headers = {"Idempotent-Replayed": "true"} if reply.replayed else {}
        return JSONResponse(reply.body, status_code=reply.status_code, headers=headers)

    def handling(self, cmd: Command, actor: Principal | None) -> Handler:
        """`cmd`'s registered handler, given its context, as a unit of work runs it."""
        handler, now, deps = self.handlers[type(cmd)], self.now(), self.deps

        async def run(uow: UnitOfWork) -> CommandResult:
            return await handler(cmd, Context(uow=uow, actor=actor, now=now, deps=deps))

        return run

    async def run(self, cmd: Command, *, reason: str) -> CommandResult:
        """Run a command the service gives itself (seeding, a timer), outside any request:
        the same handler and transaction as over HTTP, with no actor (`ctx.actor` is None)."""
        reply = await execute(
            self.db,
            self.store,
            self.handling(cmd, None),
            meta={"actor": self.name, "command": reason},
            after_commit=self.relay.notify,
        )
        return CommandResult(
            id=reply.body["id"], version=reply.body["version"], position=reply.body["position"], extra=reply.body
        )

    async def wait_for_position(
        self, position: int, *, projection: str | None = None, timeout: float | None = None
    ) -> bool:
        """Read-your-writes: wait until the event at `position` is in the read model."""
        name = projection or self.definition.own_projection
        if name is None or name not in self.runners:
            return True
        runner = self.runners[name]
        async with self.db.engine.connect() as conn:  # one light connection for both lookups
            found = await self.store.stream_of(conn, position)
            if found is None:
                return False
            key, version = f"{self.name}:{found[0]}", found[1]
            if await runner.reached(key, version, conn):
                return True
        timeout = self.settings.read_wait_timeout if timeout is None else timeout
        return await runner.wait_for_stream(key, version, timeout, checked=True)

    # documentation --------------------------------------------------------------------

    def asyncapi(self) -> dict[str, Any]:
        """The service's AsyncAPI document; it depends only on the definition, so it is built once."""
        if self._asyncapi is None:
            self._asyncapi = build_asyncapi(self)
        return self._asyncapi


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def service_deps(request: Request) -> Any:
    """Dependency: the service's typed dependencies; a service names its own type with it:
    `Deps = Annotated[RegistrationDeps, Depends(service_deps)]`."""
    return request.app.state.runtime.deps


async def consistent_read(
    request: Request,
    response: Response,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_POSITION, description="Wait until this log position is applied")
    ] = None,
    after_header: Annotated[int | None, Header(alias="X-After-Position", ge=0, le=MAX_POSITION)] = None,
) -> bool:
    """Dependency: honour `?after=` / `X-After-Position`, report `X-Consistency`.

    Positions are bounded by what the log's BIGINT holds: a larger one is a 422,
    not an overflow in the database driver.
    """
    position = after if after is not None else after_header
    if position is None:
        return True
    runtime: Runtime = request.app.state.runtime
    ok = await runtime.wait_for_position(position)
    response.headers["X-Consistency"] = "current" if ok else "stale"
    return ok


ConsistentRead = Annotated[bool, Depends(consistent_read)]


def create_app(definition: ServiceDefinition, settings: ServiceSettings) -> FastAPI:
    configure_logging(definition.name, settings.log_level)
    runtime = Runtime(definition, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=f"Doorstep {definition.title}",
        description=definition.description,
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    install_openapi(app, token_url=settings.token_url)
    install_observability(app, definition.name)
    for router in definition.routers:
        app.include_router(router)
    from doorstep_shared.admin import admin_router  # it reads the runtime through this module

    app.include_router(admin_router())

    @app.get("/asyncapi.json", tags=["operations"], summary="AsyncAPI document of this service's topics")
    async def asyncapi_doc() -> dict[str, Any]:
        return runtime.asyncapi()

    return app
