"""The supervisor behind `doorstep run`: it keeps the platform's processes serving.

A process that exits (a crash, `kill -9`, the OOM killer) is started again after
a back-off that doubles with each exit in the recent window; only when one exits
more than `DOORSTEP_MAX_RESTARTS` times within `DOORSTEP_RESTART_WINDOW` seconds
does the supervisor give up and stop everything, because then something is wrong
that restarting will not fix. A process that is alive but not listening yet is
still starting, not failing: a loaded machine may need minutes.

Every way of stopping it (Ctrl-C, SIGINT to the process group, SIGTERM, SIGHUP)
only sets a flag; the loops see it and stop every child, the services first and
the broker last (it runs in a session of its own so that a terminal's Ctrl-C does
not take it away while the services still flush to it). The handlers are set
explicitly, so a SIGINT that a shell without job control told the process to
ignore stops it as well.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from doorstep_shared.embedded import port_open

log = logging.getLogger("doorstep.supervisor")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class RunSettings(BaseSettings):
    """How `doorstep run` starts, restarts and stops its processes (all from the environment)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    # how long to wait for a process to listen before going on without it (it keeps starting)
    start_timeout: float = Field(300.0, alias="DOORSTEP_START_TIMEOUT", gt=0)
    # how long a process may take to stop before it is killed
    stop_timeout: float = Field(20.0, alias="DOORSTEP_STOP_TIMEOUT", gt=0)
    max_restarts: int = Field(5, alias="DOORSTEP_MAX_RESTARTS", ge=0)
    restart_window: float = Field(300.0, alias="DOORSTEP_RESTART_WINDOW", gt=0)
    restart_backoff: float = Field(1.0, alias="DOORSTEP_RESTART_BACKOFF", gt=0)
    restart_backoff_max: float = Field(30.0, alias="DOORSTEP_RESTART_BACKOFF_MAX", gt=0)


class GaveUp(Exception):
    """A process kept exiting: the supervisor stops everything rather than loop forever."""


@dataclass
class Child:
    """One supervised process and its recent exits."""

    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    log: Path | None = None
    port: int | None = None  # where it listens once started
    own_session: bool = False  # out of reach of the terminal's Ctrl-C; the supervisor stops it
    stop_last: bool = False  # stopped after the others (the broker they flush to)
    proc: subprocess.Popen[bytes] | None = None
    exits: deque[float] = field(default_factory=deque)
    restart_at: float | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


class Supervisor:
    """Start children, restart the ones that exit, stop them all on any stop signal."""

    def __init__(self, settings: RunSettings, say: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.children: list[Child] = []
        self.stop_signal: int | None = None
        self._say = say or (lambda line: print(line, flush=True))

    # -- signals

    def install_signal_handlers(self) -> None:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stop_signal = signum

    @property
    def stop_requested(self) -> bool:
        return self.stop_signal is not None

    def say(self, line: str, level: int = logging.INFO) -> None:
        """Print a line for the operator and log it (var/logs/supervisor.log under `doorstep run`)."""
        self._say(line)
        log.log(level, line)

    # -- starting

    def start(self, children: Iterable[Child]) -> list[Child]:
        started = []
        for child in children:
            if self.stop_requested:
                break
            self.children.append(child)
            self._spawn(child)
            started.append(child)
        return started

    def _spawn(self, child: Child) -> None:
        out = open(child.log, "ab") if child.log else subprocess.DEVNULL  # noqa: SIM115
        try:
            child.proc = subprocess.Popen(
                child.argv, env=child.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=child.own_session
            )
        finally:
            if child.log:
                out.close()  # type: ignore[union-attr]

    def wait_listening(self, children: Iterable[Child]) -> None:
        """Wait until each child listens on its port, restarting any that exits meanwhile.

        At `start_timeout` the wait ends with a warning, not an error: a process
        that is alive is still starting, and the supervisor goes on watching it.
        """
        pending = [c for c in children if c.port]
        deadline = time.monotonic() + self.settings.start_timeout
        while pending and not self.stop_requested:
            self.tend()
            pending = [c for c in pending if not (c.running and c.port and port_open("127.0.0.1", c.port))]
            if pending and time.monotonic() > deadline:
                names = ", ".join(c.name for c in pending)
                self.say(
                    f"{names}: not listening after {self.settings.start_timeout:.0f}s; still starting, going on"
                    " (DOORSTEP_START_TIMEOUT)",
                    logging.WARNING,
                )
                return
            self._pause(0.1)

    # -- serving

    def serve(self) -> None:
        """Watch the children until a stop signal arrives (raises GaveUp if one keeps exiting)."""
        while not self.stop_requested:
            self.tend()
            self._pause(0.25)

    def tend(self) -> None:
        """Notice exited children and restart each when its back-off has passed."""
        now = time.monotonic()
        for child in self.children:
            if self.stop_requested:
                return
            if child.restart_at is None and child.proc is not None and child.proc.poll() is not None:
                self._schedule_restart(child, child.proc.returncode, now)
            elif child.restart_at is not None and now >= child.restart_at:
                child.restart_at = None
                self._spawn(child)
                assert child.proc is not None
                self.say(f"{child.name} restarted (pid {child.proc.pid})")

    def _schedule_restart(self, child: Child, code: int, now: float) -> None:
        s = self.settings
        child.exits.append(now)
        while child.exits and child.exits[0] < now - s.restart_window:
            child.exits.popleft()
        exits = len(child.exits)
        if exits > s.max_restarts:
            raise GaveUp(
                f"{child.name} exited {exits} times within {s.restart_window:.0f}s ({describe_exit(code)});"
                f" giving up (DOORSTEP_MAX_RESTARTS={s.max_restarts}); see {child.log or 'its output'}"
            )
        delay = min(s.restart_backoff_max, s.restart_backoff * 2 ** (exits - 1))
        child.restart_at = now + delay
        self.say(
            f"{child.name} exited ({describe_exit(code)}); restarting in {delay:g}s"
            f" (restart {exits} of at most {s.max_restarts} within {s.restart_window:.0f}s)",
            logging.WARNING,
        )

    # -- stopping

    def stop(self) -> None:
        """Stop every child: the services together, then the broker; kill what does not stop in time."""
        for group in ([c for c in self.children if not c.stop_last], [c for c in self.children if c.stop_last]):
            self._stop_group(group)

    def _stop_group(self, group: list[Child]) -> None:
        procs = [c.proc for c in group if c.proc is not None and c.proc.poll() is None]
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                # SIGTERM, not SIGINT: after a terminal's Ctrl-C a second SIGINT makes uvicorn skip its shutdown
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.settings.stop_timeout
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _pause(self, seconds: float) -> None:
        if not self.stop_requested:
            time.sleep(seconds)  # a signal's handler runs at once, and the loop sees its flag


def log_to_file(path: Path) -> None:
    """Keep the supervisor's lines in a file beside the processes' logs."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def child_env(base: dict[str, str], **overrides: str | None) -> dict[str, str]:
    """`base` with some variables set and (value None) some removed."""
    env = dict(base)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env
