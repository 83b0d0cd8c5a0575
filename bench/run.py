"""`make bench`: every service's benchmark on the embedded stack; writes bench/results.json.

BENCH_DURATION (seconds of sustained load, default 60) and BENCH_RATE (registration
commands per second, default 500) shorten or lengthen a run.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import platform
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from doorstep_shared.auth import generate_keypair
from doorstep_shared.embedded import EmbeddedKafka

from bench import registration_load

RESULTS = Path(__file__).with_name("results.json")
SERVICES = ["jobs", "grid_reports", "volunteering"]


def calibrate(repeats: int = 7, n: int = 2_000_000) -> dict[str, float]:
    """Milliseconds for a fixed pure-Python loop: how fast this machine's core is right now.

    Shared machines vary by half from hour to hour; compare runs' figures only
    alongside this reading (taken before and after the run).
    """
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        total = 0
        for i in range(n):
            total += i
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"best_ms": round(times[0], 1), "median_ms": round(times[len(times) // 2], 1)}


async def main() -> None:
    duration = float(os.environ.get("BENCH_DURATION", "60"))
    rate = float(os.environ.get("BENCH_RATE", "500"))
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu_loop_before": calibrate(),
        },
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    with (
        tempfile.TemporaryDirectory() as tmp,
        EmbeddedKafka(log_file=Path(tmp) / "kafka.log") as kafka,
    ):
        workdir = Path(tmp)
        keys = generate_keypair(workdir / "keys")
        try:
            await registration_load.run(
                results,
                kafka_bootstrap=kafka.bootstrap_servers,
                workdir=workdir,
                duration=duration,
                rate=rate,
                broker_pid=kafka.process.pid if kafka.process is not None else None,
            )
        except Exception:
            results["registration"] = {"error": traceback.format_exc()}
        write(results)
        for name in os.environ.get("BENCH_SERVICES", ",".join(SERVICES)).split(","):
            try:
                module = importlib.import_module(f"bench.bench_{name}")
            except ModuleNotFoundError:
                continue
            (workdir / name).mkdir(exist_ok=True)
            try:
                await module.run(
                    results,
                    kafka_bootstrap=kafka.bootstrap_servers,
                    workdir=workdir / name,
                    jwt_keys=keys,
                    duration=min(duration, 30.0),
                )
            except Exception:
                results[name] = {"error": traceback.format_exc()}
            write(results)
        if kafka.process is not None:
            results["rss_embedded_broker_mb"] = registration_load.rss_mb(kafka.process.pid)
    results["machine"]["cpu_loop_after"] = calibrate()
    write(results)
    print(json.dumps(results, indent=2, ensure_ascii=False))


def write(results: dict[str, Any]) -> None:
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
