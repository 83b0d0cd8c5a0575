"""A fresh platform per fault scenario: its own broker, processes and databases, on each backend."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, _create_pg_database, _drop_pg_database
from tests.faults.harness import LAYOUT, Platform
from tests.faults.verdict import Judge, ReadModels, report
from tests.faults.workload import World


@dataclass
class Scenario:
    backend: str
    platform: Platform
    world: World
    judge: Judge

    async def settled(self) -> None:
        """Everything acknowledged so far is in every read model (before a fault: else the harness is at fault)."""
        verdict = await self.judge.converge(time.monotonic())
        assert verdict.clean, "the platform did not settle before the fault:\n" + verdict.explain()

    async def judge_after(self, name: str, recovered: float) -> None:
        """Wait for the read models to converge, report the figures, and fail on anything lost or doubled."""
        verdict = await self.judge.converge(recovered)
        report(name, self.backend, self.world, verdict)
        if not verdict.clean:
            pytest.fail(f"{name}: {verdict.explain()}\n{await self.judge.diagnosis()}", pytrace=False)


@pytest.fixture(params=BACKENDS)
async def scenario(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Scenario]:
    backend: str = request.param
    databases: dict[str, str] = {}
    urls: dict[str, str] = {}
    platform = None
    models = None
    try:
        if backend == "postgresql":
            for service in LAYOUT:
                databases[service], urls[service] = await _create_pg_database()
        platform = Platform(tmp_path, urls)
        await asyncio.to_thread(platform.start)
        models = ReadModels(platform)
        world = World(platform)
        await world.setup(models.jobs_know)
        scenario = Scenario(backend, platform, world, Judge(world, models))
        await scenario.settled()
        yield scenario
    finally:
        if models is not None:
            await models.dispose()
        if platform is not None:
            await asyncio.to_thread(platform.close)
        for name in databases.values():
            await _drop_pg_database(name)
