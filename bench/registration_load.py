"""Registration under load on the embedded stack, and the same workload as plain CRUD.

The service runs as `make run` starts it, an API process and a worker process
(relay, projections) on one SQLite file; the load
is open-loop at a fixed rate so queueing shows up in the latencies instead of
being hidden by a slower client.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import random
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from doorstep_shared.embedded import free_port, port_open

from bench.http_client import LeanClient

CITY, DISTRICT, STREET, COMMUNITY = "3301", "330102", "330102001", "330102001001"
GRIDS = [f"{COMMUNITY}{i:03d}" for i in range(1, 6)]
PASSWORD = "bench admin password"


def id_number(i: int) -> str:
    from registration.domain.validators import id_number_check_char

    first = f"330102{1950 + i % 50:04d}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
    # vary the address code's last digits too so 100k+ numbers stay unique
    first = f"33{(i // 1000) % 10000:04d}" + first[6:]
    return first + id_number_check_char(first)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pss_mb(pid: int) -> float:
    """Proportional set size: shared pages (libraries) split among the processes sharing them."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def process_tree(pid: int) -> list[int]:
    """A process and its descendants (a supervisor and its API processes)."""
    out = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in children:
            out.extend(process_tree(int(child)))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU milliseconds per command of each part (API processes, worker, broker, this load generator).

    The machine's cores are shared by all of them: their sum per command bounds the
    rate any of them can reach, whatever the latencies say. A part is a process
    with its descendants.
    """

    def __init__(self, pids: dict[str, int]) -> None:
        self.trees = {name: process_tree(pid) for name, pid in pids.items()}
        self.trees["load_generator"] = [os.getpid()]  # its own tree holds every process it started
        self.start = {name: self._used(name) for name in self.trees}

    def _used(self, name: str) -> float:
        return sum(cpu_seconds(pid) for pid in self.trees[name])

    def per_command(self, commands: int) -> dict[str, float]:
        used = {name: self._used(name) - self.start[name] for name in self.trees}
        per = {name: round(seconds * 1000 / max(1, commands), 3) for name, seconds in used.items()}
        total = sum(per.values())
        per["total"] = round(total, 3)
        per["ceiling_per_s_on_all_cores"] = round((os.cpu_count() or 1) * 1000 / total, 1) if total else 0.0
        return per


def start_process(args: list[str], env: dict[str, str], log: Path, port: int) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115
    proc = subprocess.Popen(args, env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + 60
    while not port_open("127.0.0.1", port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{args} did not start; see {log}")
        time.sleep(0.1)
    return proc


@contextlib.contextmanager
def collector_paused() -> Any:
    """Keep the load generator's garbage collector out of the measured window.

    A full collection took up to 150 ms here, during which no response is read:
    every request in flight would count that pause as the service's latency.
    Collected before and after the window instead.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


async def open_loop(rate: float, duration: float, make_request: Callable[[int], Any]) -> tuple[list[float], int]:
    """Issue `make_request(i)` on a fixed schedule; latency counts from the scheduled time.

    Counting from the schedule (not from when a connection was free) keeps the
    figures honest when the service falls behind (no coordinated omission).
    """
    with collector_paused():
        return await _open_loop(rate, duration, make_request)


async def _open_loop(rate: float, duration: float, make_request: Callable[[int], Any]) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    tasks: set[asyncio.Task[None]] = set()
    start = time.perf_counter()
    total = int(rate * duration)

    async def one(i: int, scheduled: float) -> None:
        nonlocal errors
        try:
            ok = await make_request(i)
        except Exception:
            ok = False
        if ok:
            latencies.append(time.perf_counter() - scheduled)
        else:
            errors += 1

    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(i, scheduled))
        tasks.add(task)  # finished ones leave the set: the heap stays small
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    return latencies, errors


CONNECTIONS = 32  # the load generator's keep-alive connections, opened before the load starts
API_PROCESSES = int(os.environ.get("BENCH_API_PROCESSES", "2"))  # DOORSTEP_API_PROCESSES of the API
CRUD_WORKERS = ("--workers", str(API_PROCESSES))  # the baseline has as many HTTP processes as the API


def memory(api_pid: int, worker_pid: int) -> dict[str, Any]:
    """RSS and PSS of each of the service's processes at rest, and the service's total PSS.

    RSS counts the libraries each process maps in full; PSS splits those shared
    pages among the processes, so the PSS figures add up to what the service holds.
    """
    processes = {"worker": worker_pid, "api_supervisor": api_pid}
    served = 0
    for pid in process_tree(api_pid)[1:]:
        if b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes():
            processes["api_resource_tracker"] = pid  # multiprocessing's helper beside the supervisor
        else:
            served += 1
            processes[f"api_{served}"] = pid
    out: dict[str, Any] = {
        name: {"rss": round(rss_mb(pid), 1), "pss": round(pss_mb(pid), 1)} for name, pid in processes.items()
    }
    out["service_total_pss"] = round(sum(v["pss"] for v in out.values()), 1)
    return out


STEP_RATES = (100.0, 200.0, 250.0, 300.0, 350.0, 400.0, 450.0, 500.0)
STEP_SECONDS = float(os.environ.get("BENCH_STEP_SECONDS", "10"))
P99_TARGET_MS = 50.0


async def capacity(
    make_request: Callable[[int], Any],
    first: int,
    pids: dict[str, int],
    visible: list[float] | None = None,
    settle: Callable[[], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """The highest offered rate the service keeps up with at p99 <= 50 ms.

    Rates go up in steps of `STEP_SECONDS`. A step can miss the latency target
    on a passing stall of a shared machine, so the search goes on until the
    service no longer keeps up at all (its queue would spoil the next step).
    """
    steps: list[dict[str, Any]] = []
    best = 0.0
    for n, rate in enumerate(STEP_RATES):
        offset = first + n * 100_000
        if visible is not None:
            visible.clear()
        meter = CpuMeter(pids)
        t0 = time.perf_counter()
        latencies, errors = await open_loop(rate, STEP_SECONDS, lambda i, o=offset: make_request(o + i))
        achieved = len(latencies) / (time.perf_counter() - t0)
        if settle is not None:
            await settle()
        p99 = percentile(latencies, 0.99) * 1000
        step: dict[str, Any] = {
            "offered_per_s": rate,
            "achieved_per_s": round(achieved, 1),
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
            "p99_ms": round(p99, 2),
            "errors": errors,
            "cpu_ms_per_command": meter.per_command(len(latencies) + errors),
        }
        if visible is not None:
            step["visible_p50_ms"] = round(percentile(visible, 0.50) * 1000, 2)
            step["visible_p99_ms"] = round(percentile(visible, 0.99) * 1000, 2)
        steps.append(step)
        if errors or achieved < 0.97 * rate:
            break
        if p99 <= P99_TARGET_MS:
            best = rate
    await asyncio.sleep(3)  # let a missed step's queue drain
    return {"capacity_at_p99_50ms_per_s": best, "capacity_steps": steps}


async def run(
    results: dict[str, Any],
    *,
    kafka_bootstrap: str,
    workdir: Path,
    duration: float,
    rate: float,
    broker_pid: int | None = None,
) -> None:
    port, worker_port = free_port(), free_port()
    env = dict(
        os.environ,
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        DOORSTEP_VAR_DIR=str(workdir / "registration"),
        DOORSTEP_ADMIN_PASSWORD=PASSWORD,
        REGISTRATION_PORT=str(port),
        DOORSTEP_WORKER_PORT=str(worker_port),
        LOG_LEVEL="WARNING",
    )
    env.pop("DATABASE_URL", None)
    serve = [sys.executable, "-m", "doorstep_shared.cli", "serve", "registration", "--role"]
    worker = start_process([*serve, "worker"], env, workdir / "registration-worker.log", worker_port)
    try:
        api = [*serve, "api", "--processes", str(API_PROCESSES)]
        proc = start_process(api, env, workdir / "registration-api.log", port)
    except BaseException:
        worker.terminate()
        raise
    out: dict[str, Any] = {
        "rate_target_per_s": rate,
        "duration_s": duration,
        "database": "sqlite",
        "api_processes": API_PROCESSES,
    }
    client = LeanClient(f"http://127.0.0.1:{port}")  # costs far less CPU than the service it drives
    try:
        _, tok, _ = await client.call("POST", "/auth/token", data={"username": "admin", "password": PASSWORD})
        h = {"Authorization": f"Bearer {tok['access_token']}"}
        await client.open_connections(CONNECTIONS)
        tree = [(CITY, "city", None), (DISTRICT, "district", CITY), (STREET, "street", DISTRICT)]
        tree += [(COMMUNITY, "community", STREET)] + [(g, "grid", COMMUNITY) for g in GRIDS]
        for code, level, parent in tree:
            body = {"code": code, "name": code, "level": level, "parent_code": parent}
            await client.call("POST", "/areas", json=body, headers=h)
        await asyncio.sleep(6)  # let the projections join their consumer groups
        ids: list[str] = []
        visible: list[float] = []
        stale = 0

        reads: set[asyncio.Task[None]] = set()

        async def command(i: int) -> bool:
            if ids and i % 4 == 3:  # a quarter are updates of earlier registrations
                rid = random.choice(ids)
                skills = {"skills": ["sewing", f"s{i % 7}"]}
                status, body, _ = await client.call("PUT", f"/residents/{rid}/skills", json=skills, headers=h)
            else:
                resident = {
                    "name": f"居民{i}",
                    "id_number": id_number(i),
                    "mobile": f"138{i:08d}"[-11:],
                    "grid_code": GRIDS[i % 5],
                    "building": str(i % 54),
                    "unit": "1-101",
                    "hukou": "non_local",
                    "skills": ["sewing"],
                    "tags": ["stay_at_home_parent"] if i % 3 == 0 else [],
                }
                status, body, _ = await client.call("POST", "/residents", json=resident, headers=h)
                if status == 201:
                    ids.append(body["id"])
            if status not in (200, 201):
                return False
            if i % 10 == 0:  # sample: time from acknowledgement to visible in the read model
                # read in its own task: the command's latency ends at its acknowledgement
                task = asyncio.create_task(read_back(body["id"], body["position"]))
                reads.add(task)
                task.add_done_callback(reads.discard)
            return True

        async def read_back(resident_id: str, position: int) -> None:
            nonlocal stale
            t0 = time.perf_counter()
            params = {"after": str(position)}
            _, _, headers = await client.call("GET", f"/residents/{resident_id}", params=params, headers=h)
            if headers.get("X-Consistency") == "current":
                visible.append(time.perf_counter() - t0)
            else:
                stale += 1

        async def settle() -> None:
            await asyncio.gather(*reads, return_exceptions=True)

        pids = {"api": proc.pid, "worker": worker.pid} | ({"broker": broker_pid} if broker_pid else {})
        out.update(await capacity(command, first=1_000_000, pids=pids, visible=visible, settle=settle))
        visible.clear()  # the sustained run's figures only
        stale = 0
        meter = CpuMeter(pids)
        t0 = time.perf_counter()
        latencies, errors = await open_loop(rate, duration, command)
        elapsed = time.perf_counter() - t0
        await settle()
        out["cpu_ms_per_command"] = meter.per_command(len(latencies) + errors)
        out.update(
            commands=len(latencies) + errors,
            errors=errors,
            commands_per_s=round(len(latencies) / elapsed, 1),
            command_p50_ms=round(percentile(latencies, 0.50) * 1000, 2),
            command_p99_ms=round(percentile(latencies, 0.99) * 1000, 2),
            visible_p50_ms=round(percentile(visible, 0.50) * 1000, 2),
            visible_p99_ms=round(percentile(visible, 0.99) * 1000, 2),
            visible_samples=len(visible),
            visible_stale=stale,
        )
        await asyncio.sleep(5)
        out["memory_at_rest_mb"] = memory(proc.pid, worker.pid)
    finally:
        await client.close()
        for p in (proc, worker):
            p.terminate()
            p.wait(10)

    # rebuild the (now stopped) service's directory read model: from its event log (the
    # default), then from its topics (forced) to compare the two sources on the same events
    from doorstep_shared.offline import rebuild_offline
    from registration.bootstrap import build_definition
    from registration.settings import Settings

    settings = Settings(
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap, DOORSTEP_VAR_DIR=str(workdir / "registration"), LOG_LEVEL="WARNING"
    )
    # the host's speed drifts within minutes: the CPU loop is timed right before the
    # rebuilds, and the log rebuild runs three times (each a whole blue/green rebuild)
    from bench.run import calibrate

    calibration = calibrate()
    runs = [
        (await rebuild_offline(build_definition(settings), settings, only="directory"))["directory"] for _ in range(3)
    ]
    from_log = max(runs, key=lambda p: p.rate if p.state == "done" else -1.0)
    from_kafka = (await rebuild_offline(build_definition(settings), settings, only="directory", from_kafka=True))[
        "directory"
    ]
    out.update(
        rebuild_cpu_loop_ms=calibration["best_ms"],
        rebuild_events=from_log.events,
        rebuild_seconds=round(from_log.seconds, 2),
        rebuild_events_per_s=round(from_log.rate, 1),
        rebuild_source=from_log.source if from_log.state == "done" else f"{from_log.state}: {from_log.error}",
        rebuild_from_log_events_per_s=round(from_log.rate, 1),
        rebuild_from_log_runs_events_per_s=[round(p.rate, 1) for p in runs],
        rebuild_from_kafka_events_per_s=round(from_kafka.rate, 1) if from_kafka.state == "done" else None,
    )
    results["registration"] = out
    baseline = await crud_baseline(workdir, duration, rate)
    results["registration_crud_baseline"] = baseline
    if baseline.get("command_p99_ms"):
        out["p99_ratio_to_crud"] = round(out["command_p99_ms"] / max(0.01, baseline["command_p99_ms"]), 2)
        out["throughput_ratio_to_crud"] = round(out["commands_per_s"] / max(0.01, baseline["commands_per_s"]), 2)


async def crud_baseline(workdir: Path, duration: float, rate: float) -> dict[str, Any]:
    """The same registrations as one SQLModel insert each: no events, no relay, no projection.

    It runs with as many HTTP processes as the service's API, so the ratio compares
    the work per command, not the process count.
    """
    port = free_port()
    env = dict(os.environ, CRUD_DB=str(workdir / "crud.db"), LOG_LEVEL="WARNING")
    proc = start_process(
        [sys.executable, "-m", "uvicorn", "bench.crud_app:app", f"--port={port}", "--log-level=warning", *CRUD_WORKERS],
        env,
        workdir / "crud.log",
        port,
    )
    client = LeanClient(f"http://127.0.0.1:{port}")  # costs far less CPU than the service it drives
    try:
        await client.open_connections(CONNECTIONS)

        async def command(i: int) -> bool:
            body = {
                "name": f"居民{i}",
                "id_number": id_number(i),
                "mobile": f"138{i:08d}"[-11:],
                "grid_code": GRIDS[i % 5],
                "building": str(i % 54),
                "unit": "1-101",
                "hukou": "non_local",
            }
            status, _, _ = await client.call("POST", "/residents", json=body)
            return status == 201

        steps = await capacity(command, first=1_000_000, pids={"service": proc.pid})
        meter = CpuMeter({"service": proc.pid})
        t0 = time.perf_counter()
        latencies, errors = await open_loop(rate, duration, command)
        elapsed = time.perf_counter() - t0
        cpu = meter.per_command(len(latencies) + errors)
        await asyncio.sleep(2)
        return {
            **steps,
            "commands_per_s": round(len(latencies) / elapsed, 1),
            "errors": errors,
            "command_p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
            "command_p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
            "cpu_ms_per_command": cpu,
            "http_processes": API_PROCESSES,
            "rss_at_rest_mb": {str(pid): round(rss_mb(pid), 1) for pid in process_tree(proc.pid)},
        }
    finally:
        await client.close()
        proc.terminate()
        proc.wait(10)
