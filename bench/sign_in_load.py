"""Sign-in under load: 30 clients logging in at once, and /health's latency meanwhile.

Registration runs as its own API process (`doorstep serve registration --role
api`, SQLite, no broker needed to sign in). Thirty clients log in as the admin
in a loop for `--seconds`; a probe asks /health every 20 ms. Prints logins/s and
/health p50/p99 as JSON. `--pythonpath` runs another checkout's code in the same
environment, to compare against it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

import httpx
from doorstep_shared.embedded import free_port, port_open

PASSWORD = "bench admin password"


async def run(port: int, seconds: float, clients: int) -> dict[str, float]:
    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=clients + 2)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        form = {"username": "admin", "password": PASSWORD}
        assert (await http.post("/auth/token", data=form)).status_code == 200
        deadline = time.perf_counter() + seconds
        done, health = 0, []

        async def client() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                r = await http.post("/auth/token", data=form)
                assert r.status_code == 200, r.text
                done += 1

        async def probe() -> None:
            await asyncio.sleep(0.5)
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                assert (await http.get("/health")).status_code == 200
                health.append(time.perf_counter() - start)
                await asyncio.sleep(0.02)

        started = time.perf_counter()
        await asyncio.gather(probe(), *(client() for _ in range(clients)))
        health.sort()
        return {
            "logins_per_s": round(done / (time.perf_counter() - started), 1),
            "health_p50_ms": round(health[len(health) // 2] * 1000, 1),
            "health_p99_ms": round(health[int(len(health) * 0.99)] * 1000, 1),
            "health_probes": len(health),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--pythonpath", default="")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as var:
        env = {
            **os.environ,
            "DOORSTEP_VAR_DIR": var,
            "DOORSTEP_ADMIN_PASSWORD": PASSWORD,
            "REGISTRATION_PORT": str(port),
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
            "SIGN_IN_MAX_FAILURES": "1000",
            "LOG_LEVEL": "WARNING",
        }
        if args.pythonpath:
            env["PYTHONPATH"] = args.pythonpath
        cmd = [sys.executable, "-m", "doorstep_shared.cli", "serve", "registration", "--role", "api"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 60
            while not port_open("127.0.0.1", port):
                if time.time() > deadline or proc.poll() is not None:
                    raise SystemExit("registration did not start")
                time.sleep(0.2)
            print(json.dumps(asyncio.run(run(port, args.seconds, args.clients))))
        finally:
            proc.terminate()
            proc.wait(20)


if __name__ == "__main__":
    main()
