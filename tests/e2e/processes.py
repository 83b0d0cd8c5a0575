"""Helpers for tests that run the `doorstep` command as real processes and look at what it started."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from doorstep_shared.embedded import free_port, port_open
from doorstep_shared.settings import WORKER_PORT_OFFSET

PORT_VARIABLES = {
    "registration": "REGISTRATION_PORT",
    "jobs": "JOBS_PORT",
    "grid_reports": "GRID_REPORTS_PORT",
    "volunteering": "VOLUNTEERING_PORT",
}


def free_service_port() -> int:
    """A free port whose worker port (+100) is free too."""
    while True:
        port = free_port()
        if port + WORKER_PORT_OFFSET < 65536 and _bindable(port + WORKER_PORT_OFFSET):
            return port


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Poll until `predicate()` is truthy; the machine is slow and shared, so deadlines are generous."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(interval)


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def descendants(pid: int) -> dict[int, str]:
    """Every living process below `pid` (children, grandchildren, ...) with its command line."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found and alive(child):
                try:
                    found[child] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                except OSError:
                    continue
                frontier.append(child)
    return found


class DoorstepProcess:
    """`doorstep ...` in a session of its own (its pid is its process group), its output collected."""

    def __init__(self, args: list[str], env: dict[str, str], **popen: Any) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "doorstep_shared.cli", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            **popen,
        )
        self.lines: list[str] = []
        self.seen: set[int] = set()  # every process found below it, to be sure none outlives the test
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def processes(self) -> dict[int, str]:
        """The living processes below this one (remembered for `end`)."""
        found = descendants(self.pid)
        self.seen.update(found)
        return found

    def wait_line(self, text: str, timeout: float = 600) -> None:
        wait_for(lambda: text in self.output or self.proc.poll() is not None, timeout, f"{text!r} printed")
        assert text in self.output, self.output

    def end(self) -> None:
        """Make sure nothing of this run outlives the test (whatever it asserted)."""
        pids = [self.pid, *self.processes(), *self.seen]
        for pid in pids:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        self.proc.wait(30)


def run_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")}
    env.update(DOORSTEP_VAR_DIR=str(tmp_path / "var"), LOG_LEVEL="WARNING", **extra)
    return env


def nothing_listens(*ports: int) -> bool:
    return not any(port_open("127.0.0.1", p) for p in ports)
