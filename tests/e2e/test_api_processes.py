"""`doorstep serve X --role api --processes N`: uvicorn's supervisor replaces an API process that dies."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest
from doorstep_shared.embedded import free_port

from tests.e2e.processes import DoorstepProcess, alive, nothing_listens, run_env, wait_for

pytestmark = pytest.mark.timeout(900)


def _api_processes(run: DoorstepProcess) -> set[int]:
    return {pid for pid, cmd in run.processes().items() if "spawn_main" in cmd and "resource_tracker" not in cmd}


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_killed_api_process_is_replaced(tmp_path: Path, kafka_bootstrap: str) -> None:
    port = free_port()
    env = run_env(tmp_path, REGISTRATION_PORT=str(port), KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap)
    run = DoorstepProcess(["serve", "registration", "--role", "api", "--processes", "2"], env)
    try:
        first = wait_for(lambda: len(p := _api_processes(run)) == 2 and p, 600, "two API processes")
        wait_for(lambda: _answers(port), 600, "the API answers")
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        now = wait_for(
            lambda: len(p := _api_processes(run)) == 2 and victim not in p and p, 300, "a replacement process"
        )
        assert now - first, "no new process"
        wait_for(lambda: _answers(port), 300, "the API answers after the replacement")
        assert run.proc.poll() is None, run.output
        started = run.processes()
        os.kill(run.pid, signal.SIGTERM)
        run.proc.wait(120)
        wait_for(lambda: not any(alive(pid) for pid in started), 30, f"no process left of {started}")
        assert nothing_listens(port)
    finally:
        run.end()
