"""`make run` end to end: the embedded broker and all four services start, answer, and stop on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from doorstep_shared.cli import SERVICES, splits
from doorstep_shared.embedded import free_port, port_open
from doorstep_shared.settings import WORKER_PORT_OFFSET

from tests.helpers import stop_process

WORKERS = [name for name in SERVICES if splits(name)]
PORTS = [*SERVICES.values(), *(SERVICES[name] + WORKER_PORT_OFFSET for name in WORKERS)]


@pytest.mark.skipif(any(port_open("127.0.0.1", p) for p in PORTS), reason="service ports are taken")
def test_doorstep_run_starts_every_service_and_stops_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")}
    env.update(DOORSTEP_VAR_DIR=str(tmp_path / "var"), LOG_LEVEL="WARNING")
    proc = subprocess.Popen(
        [sys.executable, "-m", "doorstep_shared.cli", "run", "--kafka-port", str(free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line and proc.poll() is not None:
                break
            lines.append(line)
            if "Doorstep is running" in line:
                break
        output = "".join(lines)
        assert "Doorstep is running" in output, output
        for name, port in SERVICES.items():
            assert f"http://127.0.0.1:{port}/docs" in output
            ready = None
            for _ in range(150):
                ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5)
                if ready.status_code == 200:
                    break
                time.sleep(0.2)
            assert ready is not None and ready.status_code == 200, (name, ready.text if ready else None)
            assert httpx.get(f"http://127.0.0.1:{port}/asyncapi.json", timeout=5).json()["asyncapi"].startswith("3.")
        password = (tmp_path / "var" / "admin-password.txt").read_text().strip()
        token = httpx.post(
            "http://127.0.0.1:8001/auth/token", data={"username": "admin", "password": password}, timeout=5
        )
        assert token.status_code == 200
        assert "doorstep_http_request_seconds" in httpx.get("http://127.0.0.1:8001/metrics", timeout=5).text
        # services that split run a worker beside their API; its relay's figures are in its metrics
        for name in WORKERS:
            worker = SERVICES[name] + WORKER_PORT_OFFSET
            assert f"(worker :{worker};" in output
            assert httpx.get(f"http://127.0.0.1:{worker}/ready", timeout=5).status_code == 200
        metrics = httpx.get(f"http://127.0.0.1:{8001 + WORKER_PORT_OFFSET}/metrics", timeout=5).text
        assert "doorstep_relay_lag_events" in metrics
    finally:
        stop_process(proc, signal.SIGINT, timeout=30)
    assert proc.returncode == 0
    assert not any(port_open("127.0.0.1", p) for p in PORTS)
