"""Identical commands racing through two API processes on one port all get the first answer."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
from doorstep_shared.embedded import free_port

from tests.e2e.registration.test_api_processes import _serve, _wait_ready, admin_with_area_tree
from tests.e2e.registration.test_registration_flow import resident_body
from tests.helpers import stop_process

PASSWORD = "idempotent processes password"
PARALLEL = 20


async def _race(url: str, headers: dict[str, str]) -> list[httpx.Response]:
    async def one() -> httpx.Response:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as fresh:  # a connection each
            return await fresh.post("/residents", json=resident_body())

    return await asyncio.gather(*(one() for _ in range(PARALLEL)))


def test_identical_commands_through_two_processes_get_one_answer(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DOORSTEP_ROLE", "DOORSTEP_API_PROCESSES")}
    env.update(
        DATABASE_URL=database_url,
        KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1",  # an API process never talks to the broker
        DOORSTEP_VAR_DIR=str(tmp_path / "var"),
        DOORSTEP_ADMIN_PASSWORD=PASSWORD,
        REGISTRATION_PORT=str(port),
        DOORSTEP_WORKER_PORT=str(free_port()),
        LOG_LEVEL="WARNING",
    )
    url = f"http://127.0.0.1:{port}"
    api = _serve("api", env, tmp_path / "api.log", "--processes", "2")
    try:
        _wait_ready(url, api, tmp_path / "api.log")
        h = admin_with_area_tree(url, PASSWORD)

        replies = asyncio.run(_race(url, {**h, "Idempotency-Key": "two-processes-1"}))
        assert [r.status_code for r in replies] == [201] * PARALLEL, [r.text for r in replies]
        assert len({r.text for r in replies}) == 1
        assert [r.headers.get("Idempotent-Replayed") for r in replies].count("true") == PARALLEL - 1
    finally:
        stop_process(api)
