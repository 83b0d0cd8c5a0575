"""The supervisor of `doorstep run` on small real processes: restarts, back-off, giving up, start-up, stop."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from doorstep_shared.embedded import free_port
from doorstep_shared.supervisor import Child, GaveUp, RunSettings, Supervisor

from tests.e2e.processes import alive, wait_for

pytestmark = pytest.mark.timeout(300)

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
CRASHER = [sys.executable, "-c", "raise SystemExit(3)"]


def _listener(port: int, after: float) -> list[str]:
    """A process that listens on `port` after `after` seconds (a slow start on a loaded machine)."""
    code = (
        "import socket, time\n"
        f"time.sleep({after})\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind(('127.0.0.1', {port})); s.listen(); time.sleep(600)\n"
    )
    return [sys.executable, "-c", code]


def _supervisor(**settings: float) -> tuple[Supervisor, list[str]]:
    lines: list[str] = []
    values = {"DOORSTEP_RESTART_BACKOFF": 0.2, "DOORSTEP_STOP_TIMEOUT": 10, **settings}
    return Supervisor(RunSettings(**values), say=lines.append), lines  # type: ignore[arg-type]


def test_an_exited_process_is_restarted_with_a_growing_back_off(tmp_path: Path) -> None:
    supervisor, lines = _supervisor(DOORSTEP_MAX_RESTARTS=10)
    steady = Child("steady", SLEEPER)
    flaky = Child("flaky", CRASHER, log=tmp_path / "flaky.log")
    supervisor.start([steady, flaky])
    assert steady.proc is not None
    first = steady.proc.pid
    try:
        deadline = time.monotonic() + 60
        while sum("flaky restarted" in line for line in lines) < 3 and time.monotonic() < deadline:
            supervisor.tend()
            time.sleep(0.05)
        exits = [line for line in lines if line.startswith("flaky exited")]
        assert len(exits) >= 3, lines
        assert "exit code 3" in exits[0] and "restarting in 0.2s" in exits[0], exits
        assert "restarting in 0.4s" in exits[1] and "restarting in 0.8s" in exits[2], exits
        assert steady.proc.pid == first and steady.running  # the others are left alone
    finally:
        supervisor.stop()
    assert not alive(first)


def test_it_gives_up_after_too_many_exits_within_the_window() -> None:
    supervisor, lines = _supervisor(DOORSTEP_MAX_RESTARTS=2, DOORSTEP_RESTART_WINDOW=120)
    steady = Child("steady", SLEEPER)
    supervisor.start([steady, Child("broken", CRASHER)])
    try:
        with pytest.raises(GaveUp, match=r"broken exited 3 times within 120s"):
            wait_for(lambda: supervisor.tend(), 60, "giving up")
        assert sum("broken restarted" in line for line in lines) == 2, lines
    finally:
        supervisor.stop()
    assert steady.proc is not None and not alive(steady.proc.pid)


def test_a_process_that_is_slow_to_listen_is_waited_for_not_failed() -> None:
    port = free_port()
    supervisor, lines = _supervisor(DOORSTEP_START_TIMEOUT=60)
    slow = Child("slow", _listener(port, after=3), port=port)
    try:
        supervisor.wait_listening(supervisor.start([slow]))
        assert slow.running and not lines, lines
    finally:
        supervisor.stop()


def test_past_the_start_timeout_a_living_process_is_kept_with_a_warning() -> None:
    port = free_port()
    supervisor, lines = _supervisor(DOORSTEP_START_TIMEOUT=0.5)
    slow = Child("slow", _listener(port, after=30), port=port)
    try:
        supervisor.wait_listening(supervisor.start([slow]))
        assert slow.running
        assert any("slow: not listening after" in line and "still starting" in line for line in lines), lines
    finally:
        supervisor.stop()


def test_a_stop_signal_stops_the_children_then_the_one_that_stops_last() -> None:
    supervisor, _ = _supervisor()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    supervisor.install_signal_handlers()
    try:
        services = Child("service", SLEEPER)
        broker = Child("broker", SLEEPER, own_session=True, stop_last=True)
        supervisor.start([broker, services])
        threading.Timer(0.5, lambda: signal.raise_signal(signal.SIGHUP)).start()
        supervisor.serve()  # returns once the signal arrived
        assert supervisor.stop_signal == signal.SIGHUP
        supervisor.stop()
        assert services.proc is not None and broker.proc is not None
        assert services.proc.returncode == -signal.SIGTERM and broker.proc.returncode == -signal.SIGTERM
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        supervisor.stop()
