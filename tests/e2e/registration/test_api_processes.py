"""`doorstep serve registration --role api --processes 2`: two API processes share one port.

The supervisor prepares the service once (migrations, secrets, first admin), so
the two processes answer with one admin and one data key; a resident registered
through one is read through the other; /metrics sums both; a process that dies
is replaced.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from doorstep_shared.embedded import free_port, port_open

from tests.e2e.registration.test_registration_flow import GRID, resident_body
from tests.helpers import stop_process

PASSWORD = "two processes admin password"


def admin_with_area_tree(url: str, password: str) -> dict[str, str]:
    """Sign in as the first admin and create the area tree down to GRID; the admin's headers."""
    token = httpx.post(f"{url}/auth/token", data={"username": "admin", "password": password}, timeout=5)
    assert token.status_code == 200, token.text
    h = {"Authorization": f"Bearer {token.json()['access_token']}"}
    with httpx.Client(base_url=url, headers=h, timeout=10) as c:
        for code, level, parent in [
            (GRID[:4], "city", None),
            (GRID[:6], "district", GRID[:4]),
            (GRID[:9], "street", GRID[:6]),
            (GRID[:12], "community", GRID[:9]),
            (GRID, "grid", GRID[:12]),
        ]:
            r = c.post("/areas", json={"code": code, "name": code, "level": level, "parent_code": parent})
            assert r.status_code == 201, r.text
    return h


def _serve(role: str, env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "doorstep_shared.cli", "serve", "registration", "--role", role, *extra],
        env=env,
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
    )


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(log.read_text())


def _pids_answering(url: str, tries: int = 40) -> set[int]:
    """The processes behind the port: every request on a new connection."""
    return {httpx.get(f"{url}/health", timeout=5).json()["pid"] for _ in range(tries)}


def test_two_api_processes_share_the_port_and_the_prepared_service(
    kafka_bootstrap: str, database_url: str, topic_prefix: str, tmp_path: Path
) -> None:
    port, worker_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DOORSTEP_ROLE", "DOORSTEP_API_PROCESSES")}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        DATABASE_URL=database_url,
        DOORSTEP_TOPIC_PREFIX=topic_prefix,
        DOORSTEP_VAR_DIR=str(tmp_path / "var"),
        DOORSTEP_ADMIN_PASSWORD=PASSWORD,
        REGISTRATION_PORT=str(port),
        DOORSTEP_WORKER_PORT=str(worker_port),
        LOG_LEVEL="WARNING",
    )
    url = f"http://127.0.0.1:{port}"
    # the API first, on an empty database: its supervisor, not the worker, prepares the service
    api = _serve("api", env, tmp_path / "api.log", "--processes", "2")
    worker: subprocess.Popen[bytes] | None = None
    try:
        _wait_ready(url, api, tmp_path / "api.log")
        worker = _serve("worker", env, tmp_path / "worker.log")
        _wait_ready(f"http://127.0.0.1:{worker_port}", worker, tmp_path / "worker.log")

        pids = _pids_answering(url)
        assert len(pids) == 2, pids
        h = admin_with_area_tree(url, PASSWORD)
        with httpx.Client(base_url=url, headers=h, timeout=10) as c:
            body = resident_body()
            created = c.post("/residents", json=body)
            assert created.status_code == 201, created.text
            # the same ID number through the other process too: one data key, one hash key
            for _ in range(4):
                with httpx.Client(base_url=url, headers=h, timeout=10) as fresh:
                    again = fresh.post("/residents", json=body)
                    assert again.status_code == 409, again.text
            rid, position = created.json()["id"], created.json()["position"]
            for _ in range(4):  # read back on new connections, whichever process answers
                with httpx.Client(base_url=url, headers=h, timeout=10) as fresh:
                    read = fresh.get(f"/residents/{rid}", params={"after": position})
                    assert read.status_code == 200, read.text
                    assert read.headers["X-Consistency"] == "current"
                    assert read.json()["name"] == body["name"]

        counts = [
            line
            for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines()
            if line.startswith("doorstep_http_request_seconds_count") and 'route="/health"' in line
        ]
        assert sum(float(line.rsplit(" ", 1)[1]) for line in counts) >= 40  # both processes' requests

        victim = pids.pop()
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = _pids_answering(url, tries=20)
            if victim not in now and len(now) == 2:
                break
            time.sleep(0.5)
        assert victim not in now and len(now) == 2, now
    finally:
        for proc in (api, worker):
            if proc is not None:
                stop_process(proc)
    assert not port_open("127.0.0.1", port)


@pytest.mark.parametrize("role", ["all", "worker"])
def test_several_processes_need_the_api_role(role: str, tmp_path: Path) -> None:
    env = dict(os.environ, DOORSTEP_VAR_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "doorstep_shared.cli", "serve", "registration", "--role", role, "--processes", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "DOORSTEP_ROLE=api" in done.stderr
