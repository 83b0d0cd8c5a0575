"""Faults on the real broker and real processes: every acknowledged command reaches every read model once.

Each scenario runs on a fresh platform (see conftest.py), sends commands through
a fault, then waits for the read models to converge and judges them (verdict.py).
Run: `pytest tests/faults -s` (one summary line per scenario; figures appended
to var/fault-report.jsonl or $FAULT_REPORT).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.faults.conftest import Scenario

pytestmark = [pytest.mark.faults, pytest.mark.timeout(420)]

BEFORE, AFTER = 30, 30  # commands acknowledged before the fault, and after recovery


async def test_broker_killed_and_restarted_mid_load(scenario: Scenario) -> None:
    """kill -9 of the broker; it comes back on the same port with empty memory while commands keep coming."""
    p = scenario.platform
    async with scenario.world.load().running() as load:
        await load.acknowledged(BEFORE)
        await p.run(p.broker.kill)
        await asyncio.sleep(3)  # commands go on while the broker is away
        await p.run(p.broker.restart)
        recovered = time.monotonic()
        await load.acknowledged(AFTER, since=recovered)
    await scenario.judge_after("broker kill -9 mid-load", recovered)


async def test_broker_restarted_while_idle_then_more_commands(scenario: Scenario) -> None:
    """The broker stops and starts again while nothing happens; what is registered after it must show."""
    p = scenario.platform
    async with scenario.world.load(limit=BEFORE).running() as load:
        await load.acknowledged(BEFORE)
    await scenario.settled()
    await p.run(p.broker.stop)
    await p.run(p.broker.restart)
    recovered = time.monotonic()
    async with scenario.world.load(limit=AFTER).running() as load:
        await load.acknowledged(AFTER)
    await scenario.judge_after("broker restart while idle", recovered)


async def test_workers_killed_and_restarted_mid_load(scenario: Scenario) -> None:
    """kill -9 of every process running relays and projections (jobs' only process among them)."""
    p = scenario.platform
    workers = p.workers()
    async with scenario.world.load().running() as load:
        await load.acknowledged(BEFORE)
        await p.run(p.kill, *(w.name for w in workers))
        await asyncio.sleep(2)  # registration's API still takes commands; jobs refuses connections
        await p.run(p.start_processes, workers)
        recovered = time.monotonic()
        await load.acknowledged(AFTER, since=recovered)
    await scenario.judge_after("worker kill -9 mid-load", recovered)


async def test_whole_platform_restarted_mid_load(scenario: Scenario) -> None:
    """Ctrl-C on everything (processes, then the broker), then all of it again on the same databases."""
    p = scenario.platform
    async with scenario.world.load().running() as load:
        await load.acknowledged(BEFORE)
        await p.run(p.stop)
        await p.run(p.start)
        recovered = time.monotonic()
        await load.acknowledged(AFTER, since=recovered)
    await scenario.judge_after("whole-platform restart", recovered)


async def test_two_workers_of_one_service_one_killed_mid_load(scenario: Scenario) -> None:
    """Two registration workers on one database under load; kill -9 of one of them mid-way."""
    p = scenario.platform
    second = p.add_worker("registration", "registration-worker-2")
    await p.run(p.start_processes, [second])
    async with scenario.world.load().running() as load:
        await load.acknowledged(BEFORE)
        await p.run(p.kill, "registration-worker")
        recovered = time.monotonic()
        await load.acknowledged(AFTER, since=recovered)
    await scenario.judge_after("two registration workers, one killed", recovered)
