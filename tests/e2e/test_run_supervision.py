"""`doorstep run` keeps serving: a killed process comes back, and every way of stopping it stops everything.

Real processes on free ports (a service reads its port from `<SERVICE>_PORT`, the
broker's comes from `--kafka-port`). The machine may be slow and shared, so the
waits are long; none of them is a start-up deadline of the code under test.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest
from doorstep_shared.cli import service_port
from doorstep_shared.embedded import free_port, port_open
from doorstep_shared.settings import WORKER_PORT_OFFSET

from tests.e2e.processes import (
    PORT_VARIABLES,
    DoorstepProcess,
    alive,
    free_service_port,
    nothing_listens,
    run_env,
    wait_for,
)

pytestmark = pytest.mark.timeout(900)


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _role_pid(run: DoorstepProcess, role: str) -> int | None:
    return next((pid for pid, cmd in run.processes().items() if f"--role {role}" in cmd), None)


def test_a_killed_process_is_restarted_and_sigint_to_the_group_stops_everything(tmp_path: Path) -> None:
    port, kafka = free_service_port(), free_port()
    env = run_env(tmp_path, REGISTRATION_PORT=str(port), DOORSTEP_RESTART_BACKOFF="0.5")
    run = DoorstepProcess(["run", "registration", "--kafka-port", str(kafka)], env)
    try:
        run.wait_line("Doorstep is running")
        assert f"http://127.0.0.1:{port}/docs" in run.output
        api, worker = _role_pid(run, "api"), _role_pid(run, "worker")
        assert api and worker, run.processes()
        broker = next(pid for pid, cmd in run.processes().items() if "tansu" in cmd)

        os.kill(api, signal.SIGKILL)
        run.wait_line("registration api exited", timeout=120)
        replacement = wait_for(
            lambda: (pid := _role_pid(run, "api")) not in (None, api) and pid, 300, "a new API process"
        )
        wait_for(lambda: _answers(port), 600, "the restarted API answers")
        assert run.proc.poll() is None, run.output
        assert _role_pid(run, "worker") == worker  # the others went on serving
        assert alive(broker)
        assert "restart" in (tmp_path / "var" / "logs" / "supervisor.log").read_text()

        started = run.processes()
        os.killpg(run.pid, signal.SIGINT)  # as `kill -INT -<pgid>` does, with no terminal
        assert run.proc.wait(180) == 0, run.output
        assert not [pid for pid in (*started, replacement, broker) if alive(pid)], started
        assert nothing_listens(port, port + WORKER_PORT_OFFSET, kafka)
    finally:
        run.end()


def _ignore_sigint() -> None:
    # a shell without job control starts a background command with SIGINT ignored
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    ("sig", "to_group", "sigint_ignored", "started"),
    [
        (signal.SIGINT, True, True, True),
        (signal.SIGTERM, False, False, False),
        (signal.SIGHUP, True, False, False),
    ],
    ids=["sigint-to-group-of-background-run", "sigterm-while-starting", "sighup-to-group-while-starting"],
)
def test_a_stop_signal_stops_every_process_and_the_broker(
    tmp_path: Path, sig: signal.Signals, to_group: bool, sigint_ignored: bool, started: bool
) -> None:
    port, kafka = free_service_port(), free_port()
    env = run_env(tmp_path, JOBS_PORT=str(port))
    run = DoorstepProcess(
        ["run", "jobs", "--kafka-port", str(kafka)], env, preexec_fn=_ignore_sigint if sigint_ignored else None
    )
    try:
        if started:
            run.wait_line("Doorstep is running")
        else:
            wait_for(lambda: port_open("127.0.0.1", kafka) or run.proc.poll() is not None, 300, "the broker listens")
        processes = run.processes()
        assert any("tansu" in cmd for cmd in processes.values()), processes
        if to_group:
            os.killpg(run.pid, sig)
        else:
            os.kill(run.pid, sig)
        run.proc.wait(180)
        wait_for(lambda: not any(alive(pid) for pid in processes), 30, f"no process left of {processes}")
        assert nothing_listens(port, kafka)
    finally:
        run.end()


def test_the_service_ports_come_from_the_environment(tmp_path: Path) -> None:
    """Each service's port variable reaches `doorstep run` (so it can run beside another copy)."""
    for name, variable in PORT_VARIABLES.items():
        os.environ[variable] = "18999"
        try:
            assert service_port(name) == 18999
        finally:
            del os.environ[variable]
