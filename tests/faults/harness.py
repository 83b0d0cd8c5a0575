"""Real processes and a real broker for the fault suite: start, stop, kill -9 and restart them.

A `Platform` is what `doorstep run` starts, on ports of its own: the embedded broker
(Tansu, in memory) on a fixed free port, restarted on that same port with empty
memory as a crashed broker comes back, and each service's processes
(`python -m doorstep_shared.cli serve <service> --role ...`). They share one var/
directory as under `doorstep run` (the JWT key pair made by `generate_keypair`,
the logs, the SQLite files); on PostgreSQL each service has a database of its own.

The services the scenarios need run as `doorstep run` runs them: registration as
an API and a worker, jobs as one process (its matching index lives in its
projections' memory), volunteering as a worker (no command of the load goes to
volunteering; its read models are fed by its worker alone).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx
from doorstep_shared.auth import generate_keypair
from doorstep_shared.embedded import EmbeddedKafka, free_port, port_open

ADMIN_PASSWORD = "fault suite admin password"
# start-up on a slow, shared 2-core machine: imports, migrations, joining consumer groups
READY_TIMEOUT = float(os.environ.get("FAULT_READY_TIMEOUT", "120"))
STOP_TIMEOUT = 20.0

# service -> the roles of its processes, in start order (a worker applies the migrations first)
LAYOUT: dict[str, tuple[str, ...]] = {
    "registration": ("worker", "api"),
    "jobs": ("all",),
    "volunteering": ("worker",),
}
# the environment variable each service reads its API port from
PORT_VARIABLE = {"registration": "REGISTRATION_PORT", "jobs": "PORT", "volunteering": "PORT"}
# what the platform sets itself; never inherited from the shell running the tests
OWN_VARIABLES = (
    "DATABASE_URL",
    "KAFKA_BOOTSTRAP_SERVERS",
    "PORT",
    "REGISTRATION_PORT",
    "GRID_REPORTS_PORT",
    "PROMETHEUS_MULTIPROC_DIR",
)


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def unique_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


@dataclass
class ServiceProcess:
    """One `doorstep serve` process; `port` is where it answers /ready."""

    name: str
    service: str
    role: str
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        assert not self.running, f"{self.name} is already running"
        deadline = time.monotonic() + 30
        while port_open("127.0.0.1", self.port):  # the previous process's socket is still closing
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: port {self.port} stays taken")
            time.sleep(0.2)
        with open(self.log, "ab") as out:
            out.write(f"--- start {self.starts + 1} of {self.name} at {time.strftime('%H:%M:%S')}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "doorstep_shared.cli", "serve", self.service, "--role", self.role],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1

    def wait_listening(self, timeout: float = READY_TIMEOUT) -> None:
        self.wait_ready(timeout, check=lambda: port_open("127.0.0.1", self.port))

    def wait_ready(self, timeout: float = READY_TIMEOUT, check: Callable[[], bool] | None = None) -> None:
        """Until /ready answers 200 (or `check` holds); fails at once if the process exits."""
        check = check or (lambda: ready(self.port))
        deadline = time.monotonic() + timeout
        while not check():
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited while starting; its log ends:\n{log_tail(self.log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready within {timeout:.0f}s; its log ends:\n{log_tail(self.log)}")
            time.sleep(0.25)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Ctrl-C: SIGINT and wait (killed if it does not stop in time)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None


class Broker:
    """The embedded broker on one fixed port; a restart comes back there with empty memory."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.kafka = EmbeddedKafka(port=self.port, log_file=log)
        self.restarts = 0

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka.bootstrap_servers

    def start(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                self.kafka.start(timeout=30)
                return
            except RuntimeError:  # exited at once: the old listener's port is not free yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def kill(self) -> None:
        """kill -9: every topic, offset and consumer group it held is gone."""
        process = self.kafka.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        self.kafka.process = None

    def stop(self) -> None:
        self.kafka.stop()

    def restart(self) -> None:
        self.restarts += 1
        self.start()


class Platform:
    """A broker and the services' processes on one var/ directory and their databases."""

    def __init__(self, root: Path, database_urls: dict[str, str] | None = None) -> None:
        self.var = root / "var"
        (self.var / "logs").mkdir(parents=True, exist_ok=True)
        self.keys = generate_keypair(self.var / "keys")  # as `doorstep run` does: shared by every service
        self.database_urls = database_urls or {}
        self.broker = Broker(self.var / "logs" / "kafka.log")
        ports = iter(unique_ports(2 * len(LAYOUT) + 4))
        self.api_ports = {service: next(ports) for service in LAYOUT}
        self.worker_ports = {service: next(ports) for service in LAYOUT}
        self._spare_ports = list(ports)
        self.processes: dict[str, ServiceProcess] = {}
        self.start_seconds: list[float] = []  # how long each whole start took, to /ready
        self.killed_at_stop: list[str] = []  # processes that did not stop on SIGINT in time
        for service, roles in LAYOUT.items():
            for role in roles:
                self._add(f"{service}-{role}", service, role)

    # layout -----------------------------------------------------------------------------

    def _env(self, service: str, worker_port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in OWN_VARIABLES and not k.startswith("DOORSTEP_")}
        env.update(
            DOORSTEP_VAR_DIR=str(self.var),
            DOORSTEP_ADMIN_PASSWORD=ADMIN_PASSWORD,
            DOORSTEP_WORKER_PORT=str(worker_port),
            KAFKA_BOOTSTRAP_SERVERS=self.broker.bootstrap_servers,
            KAFKA_ENABLE_IDEMPOTENCE="false",
            LOG_LEVEL=os.environ.get("FAULT_LOG_LEVEL", "WARNING"),
            # a worker killed while holding the relay lease is replaced after this long
            DOORSTEP_RELAY_LEASE_SECONDS="4",
        )
        env[PORT_VARIABLE[service]] = str(self.api_ports[service])
        if service in self.database_urls:
            env["DATABASE_URL"] = self.database_urls[service]
        return env

    def _add(self, name: str, service: str, role: str, worker_port: int | None = None) -> ServiceProcess:
        worker_port = worker_port or self.worker_ports[service]
        port = self.api_ports[service] if role in ("api", "all") else worker_port
        process = ServiceProcess(
            name, service, role, port, self._env(service, worker_port), self.var / "logs" / f"{name}.log"
        )
        self.processes[name] = process
        return process

    def add_worker(self, service: str, name: str) -> ServiceProcess:
        """One more worker of a service on the same database, answering on a worker port of its own."""
        return self._add(name, service, "worker", worker_port=self._spare_ports.pop())

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.api_ports[service]}"

    def database_url(self, service: str) -> str:
        return self.database_urls.get(service) or f"sqlite+aiosqlite:///{self.var}/{service}.db"

    def workers(self) -> list[ServiceProcess]:
        """The processes that run relays and projections."""
        return [p for p in self.processes.values() if p.role in ("worker", "all")]

    # lifecycle (blocking; call through asyncio.to_thread from a running load) ------------------

    def start(self) -> None:
        began = time.monotonic()
        self.broker.start()
        self.start_processes(self.processes.values())
        self.start_seconds.append(round(time.monotonic() - began, 1))

    def start_processes(self, processes: Iterable[ServiceProcess]) -> None:
        """Workers (and whole services) first, as `doorstep run` does: they apply the migrations.

        A process listens once its start-up (migrations included) is done, so the
        API processes start then; all of them are awaited until /ready answers 200.
        """
        chosen = list(processes)
        first = [p for p in chosen if p.role != "api"]
        for p in first:
            p.start()
        for p in first:
            p.wait_listening()
        for p in chosen:
            if p.role == "api":
                p.start()
        for p in chosen:
            p.wait_ready()

    def kill(self, *names: str) -> None:
        for name in names:
            self.processes[name].kill()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Ctrl-C on `doorstep run`: SIGINT to every process at once, then the broker.

        A process still running after `timeout` is killed (and named in `killed_at_stop`).
        """
        running = [p for p in self.processes.values() if p.proc is not None]
        for p in running:
            if p.running:
                p.proc.send_signal(signal.SIGINT)  # type: ignore[union-attr]
        deadline = time.monotonic() + timeout
        for p in running:
            if p.proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.proc.wait(max(0.1, deadline - time.monotonic()))
                if p.proc.poll() is None:
                    self.killed_at_stop.append(p.name)
                p.kill()
        self.broker.stop()

    def close(self) -> None:
        """Tear down whatever still runs (after a test, passed or failed)."""
        with contextlib.suppress(Exception):
            self.stop(timeout=5)
        with contextlib.suppress(Exception):
            self.broker.stop()

    async def run(self, fn, *args) -> None:  # type: ignore[no-untyped-def]
        """Run a blocking lifecycle step without stopping the load's event loop."""
        await asyncio.to_thread(fn, *args)
