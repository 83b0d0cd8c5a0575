"""`doorstep` command: run the platform, serve one service, migrate, rebuild, make keys."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from doorstep_shared.embedded import port_open
from doorstep_shared.settings import WORKER_PORT_OFFSET

if TYPE_CHECKING:
    from doorstep_shared.supervisor import Supervisor

SERVICES: dict[str, int] = {
    "registration": 8001,
    "jobs": 8002,
    "grid_reports": 8003,
    "volunteering": 8004,
}


def load_service(name: str, part: str = "bootstrap") -> Any:
    """A service's module: its composition root, or (`part="settings"`) just its settings."""
    if name not in SERVICES:
        raise SystemExit(f"unknown service {name!r}; one of: {', '.join(SERVICES)}")
    return importlib.import_module(f"{name}.{part}")


def splits(name: str) -> bool:
    """Whether a service can run as an API process and a worker process."""
    module = load_service(name)
    return bool(module.build_definition(module.Settings()).splits_into_api_and_worker)


def available_services() -> list[str]:
    out = []
    for name in SERVICES:
        try:
            importlib.import_module(f"{name}.bootstrap")
            out.append(name)
        except ModuleNotFoundError:
            continue
    return out


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    if args.role:
        os.environ["DOORSTEP_ROLE"] = args.role
    if args.processes:
        os.environ["DOORSTEP_API_PROCESSES"] = str(args.processes)
    try:  # the settings alone first: a supervisor of API processes imports nothing more
        settings = load_service(args.service, "settings").Settings()
    except ValueError as exc:  # pydantic's ValidationError: a setting the process cannot run with
        raise SystemExit(f"{args.service}: {exc}") from exc
    if settings.api_processes > 1:
        serve_api_processes(args.service, settings)
        return
    app = _serving_app(load_service(args.service), settings)
    uvicorn.run(app, host=settings.host, port=settings.listen_port, log_config=None, access_log=False)


def _serving_app(module: Any, settings: Any) -> Any:
    """The app of a process that serves only this service (so it may freeze its startup objects)."""
    app = module.create_app(settings)
    app.state.runtime.freeze_gc = True
    return app


def serve_api_processes(name: str, settings: Any) -> None:
    """Several API processes on one port, under uvicorn's supervisor (it restarts one that dies).

    The service is first started once and stopped, in a process of its own:
    migrations, generated secrets and the first admin are done before the API
    processes start, so they never race each other to do them, and the supervisor
    stays small. The API processes' metrics are summed through prometheus_client's
    multiprocess mode.
    """
    import multiprocessing
    import shutil
    import tempfile

    import uvicorn

    preparation = multiprocessing.get_context("spawn").Process(target=_prepare, args=(name,), name=f"{name}-prepare")
    preparation.start()
    preparation.join()
    if preparation.exitcode != 0:
        raise SystemExit(f"{name}: preparing the service failed (exit code {preparation.exitcode})")
    metrics_dir = tempfile.mkdtemp(prefix=f"doorstep-{name}-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir  # read by each API process at import
    os.environ["DOORSTEP_SERVICE"] = name
    try:
        uvicorn.run(
            "doorstep_shared.cli:service_app",
            factory=True,
            workers=settings.api_processes,
            host=settings.host,
            port=settings.listen_port,
            log_config=None,
            access_log=False,
        )
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _prepare(name: str) -> None:
    """Start a service's app and stop it: its startup (migrations, secrets, seeds) runs once."""
    module = load_service(name)
    app = module.create_app(module.Settings())

    async def startup() -> None:
        async with app.router.lifespan_context(app):
            pass

    asyncio.run(startup())


def service_app() -> Any:
    """One API process's app, built from the environment (`serve_api_processes` sets it)."""
    module = load_service(os.environ["DOORSTEP_SERVICE"])
    return _serving_app(module, module.Settings())


def _on_migrated_database(service: str, action: Callable[[Any, Any], Awaitable[None]] | None = None) -> None:
    """Bring a service's schema to head, then run `action(db, definition)` on its database."""
    from doorstep_shared.db import Database
    from doorstep_shared.migrations import upgrade

    module = load_service(service)
    settings = module.Settings()
    definition = module.build_definition(settings)

    async def run() -> None:
        db = Database(settings.resolved_database_url)
        try:
            await upgrade(db, definition.migrations_path)
            if action is not None:
                await action(db, definition)
        finally:
            await db.dispose()

    asyncio.run(run())


def cmd_migrate(args: argparse.Namespace) -> None:
    _on_migrated_database(args.service)
    print(f"{args.service}: schema at head")


def cmd_makemigrations(args: argparse.Namespace) -> None:
    from doorstep_shared.migrations import make_revision

    module = load_service(args.service)
    definition = module.build_definition(module.Settings())
    asyncio.run(make_revision(args.service, definition.migrations_path, args.message))


def cmd_keys(args: argparse.Namespace) -> None:
    from doorstep_shared.auth import generate_keypair

    private, public = generate_keypair(Path(args.dir))
    print(f"keys: {private} {public}")


def cmd_rebuild(args: argparse.Namespace) -> None:
    """Rebuild a stopped service's read models: own topics from its event log (no broker
    needed), other services' topics from Kafka if it still holds their whole history."""
    from doorstep_shared.offline import rebuild_offline
    from doorstep_shared.replay import Progress

    module = load_service(args.service)
    settings = module.Settings()
    definition = module.build_definition(settings)
    shown = {"at": time.monotonic()}

    def progress(p: Progress) -> None:
        if p.state == "replaying" and time.monotonic() - shown["at"] >= 1.0:
            shown["at"] = time.monotonic()
            print(
                f"{args.service}.{p.projection}: {p.events:,}/{p.total:,} events ({p.rate:,.0f} events/s)", flush=True
            )

    report = asyncio.run(rebuild_offline(definition, settings, only=args.projection, on_progress=progress))
    failed = False
    for name, p in report.items():
        if p.state == "done":
            rate = f"{p.rate:,.0f} events/s"
            print(f"{args.service}.{name}: {p.events:,} events in {p.seconds:.2f}s ({rate}), source: {p.source}")
        else:
            failed = True
            print(f"{args.service}.{name}: {p.state}: {p.error}", file=sys.stderr)
    if failed:
        raise SystemExit(1)


def cmd_republish(args: argparse.Namespace) -> None:
    """Ask a service's relay to publish its event log again from a position (running or not)."""
    from doorstep_shared.relay import request_republish

    async def request(db: Any, definition: Any) -> None:
        await request_republish(db, definition.core, args.from_position)

    _on_migrated_database(args.service, request)
    print(
        f"{args.service}: republishing from position {args.from_position} was requested; "
        "a running worker starts within seconds, a stopped one when it starts"
    )


def service_port(name: str) -> int:
    """A service's API port as its settings read it (`REGISTRATION_PORT`, `JOBS_PORT`, ...)."""
    try:
        return int(load_service(name, "settings").Settings().port)
    except ValueError as exc:  # pydantic's ValidationError
        raise SystemExit(f"{name}: {exc}") from exc


def cmd_run(args: argparse.Namespace) -> None:
    """Start the embedded broker and every service and keep them serving; any stop signal stops them all."""
    from doorstep_shared.supervisor import GaveUp, RunSettings, Supervisor

    try:
        supervisor = Supervisor(RunSettings())
    except ValueError as exc:  # pydantic's ValidationError: DOORSTEP_START_TIMEOUT=soon
        raise SystemExit(f"doorstep run: {exc}") from exc
    supervisor.install_signal_handlers()  # first: a signal during start-up stops whatever has started
    code = 0
    try:
        _run(args, supervisor)
        if supervisor.stop_requested:
            print("\nstopping…", flush=True)
    except GaveUp as exc:
        supervisor.say(f"stopping: {exc}")
        code = 1
    finally:
        supervisor.stop()
    raise SystemExit(code)


def _run(args: argparse.Namespace, supervisor: Supervisor) -> None:
    from doorstep_shared.auth import generate_keypair
    from doorstep_shared.embedded import EmbeddedKafka
    from doorstep_shared.supervisor import Child, child_env, log_to_file

    var = Path(os.environ.get("DOORSTEP_VAR_DIR", "var")).resolve()
    (var / "logs").mkdir(parents=True, exist_ok=True)
    log_to_file(var / "logs" / "supervisor.log")
    generate_keypair(var / "keys")
    env = dict(os.environ, DOORSTEP_VAR_DIR=str(var))
    bootstrap = env.get("KAFKA_BOOTSTRAP_SERVERS")
    embedded = not bootstrap
    if embedded:
        if port_open("127.0.0.1", args.kafka_port):
            raise SystemExit(f"port {args.kafka_port} is taken; set KAFKA_BOOTSTRAP_SERVERS to use that broker")
        kafka = EmbeddedKafka(port=args.kafka_port)
        broker = Child("kafka", kafka.command(), log=var / "logs" / "kafka.log", port=kafka.port)
        broker.own_session = broker.stop_last = True
        supervisor.wait_listening(supervisor.start([broker]))
        bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"] = kafka.bootstrap_servers
        env.setdefault("KAFKA_ENABLE_IDEMPOTENCE", "false")
    print(f"kafka        {bootstrap}" + (" (embedded, in memory)" if embedded else ""), flush=True)
    services = args.services or available_services()
    ports = {name: service_port(name) for name in services}
    # a service runs as a worker (migrations, relay, projections, timers) and an API
    # process; one whose queries read its projections' memory runs as one process
    roles = {name: ("worker", "api") if splits(name) else ("all",) for name in services}
    listen = {(n, r): ports[n] + (WORKER_PORT_OFFSET if r == "worker" else 0) for n in services for r in roles[n]}
    taken = [str(port) for port in listen.values() if port_open("127.0.0.1", port)]
    if taken:
        raise SystemExit(f"port {', '.join(taken)} taken; set REGISTRATION_PORT, JOBS_PORT, ... to others")
    for phase in (0, 1):  # workers first: they apply the migrations
        children = [
            Child(
                f"{name} {role}",
                [sys.executable, "-m", "doorstep_shared.cli", "serve", name, "--role", role],
                # DOORSTEP_API_PROCESSES is for API processes; a worker or a whole service runs once
                env=child_env(
                    env,
                    DOORSTEP_API_PROCESSES=env.get("DOORSTEP_API_PROCESSES") if role == "api" else None,
                    DOORSTEP_WORKER_PORT=str(listen[name, role]) if role == "worker" else None,
                ),
                log=var / "logs" / f"{name}-{role}.log",
                port=listen[name, role],
            )
            for name in services
            if phase < len(roles[name])
            for role in [roles[name][phase]]
        ]
        supervisor.wait_listening(supervisor.start(children))
        if supervisor.stop_requested:
            return
    for name in services:
        worker = f"worker :{listen[name, 'worker']}; " if len(roles[name]) > 1 else ""
        print(f"{name:<12} http://127.0.0.1:{ports[name]}/docs  ({worker}logs: var/logs/{name}-*.log)")
    admin_note = var / "admin-password.txt"
    if admin_note.exists():
        print(f"admin user   admin / {admin_note.read_text().strip()}  (set DOORSTEP_ADMIN_PASSWORD to choose)")
    print("Doorstep is running; a process that exits is restarted. Ctrl-C stops everything.", flush=True)
    supervisor.serve()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="doorstep", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="start the embedded broker and all services")
    p.add_argument("services", nargs="*", help="only these services")
    p.add_argument("--kafka-port", type=int, default=9092)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("serve", help="serve one service (HTTP API, relay, projections)")
    p.add_argument("service")
    p.add_argument(
        "--role",
        choices=["all", "api", "worker"],
        default=None,
        help="all (default, or DOORSTEP_ROLE): one process; api: HTTP only; worker: relay, projections, timers",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=None,
        help="API processes sharing the port (role api only; default 1, or DOORSTEP_API_PROCESSES)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="apply a service's schema migrations")
    p.add_argument("service")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("makemigrations", help="autogenerate a migration from the models")
    p.add_argument("service")
    p.add_argument("-m", "--message", required=True)
    p.set_defaults(func=cmd_makemigrations)

    p = sub.add_parser(
        "rebuild", help="rebuild a service's read models from its event log, or from Kafka (service stopped)"
    )
    p.add_argument("service")
    p.add_argument("--projection", default=None)
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser("republish", help="publish a service's event log to Kafka again (from a position)")
    p.add_argument("service")
    p.add_argument("--from-position", type=int, default=1, help="first log position to publish again (default 1)")
    p.set_defaults(func=cmd_republish)

    p = sub.add_parser("keys", help="create the JWT key pair if absent")
    p.add_argument("--dir", default="var/keys")
    p.set_defaults(func=cmd_keys)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
