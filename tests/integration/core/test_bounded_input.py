"""Bad input over HTTP, on each database: always a 422 problem naming the field, never a 5xx.

Found by fuzzing the OpenAPI documents: positions and offsets past 2**63-1
overflowed the database driver (500, and uvicorn dropped the connection), NUL
reached PostgreSQL, 20,000 skills were accepted in one request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from doorstep_shared.settings import ProcessRole
from registration.bootstrap import create_app
from registration.settings import Settings

from tests.e2e.registration.test_registration_flow import admin_headers, build_tree, resident_body, settings_for
from tests.helpers import running_app

TOO_BIG = str(2**63)


@pytest.fixture
async def client(database_url: str, jwt_keys, tmp_path: Path):  # type: ignore[no-untyped-def]
    settings: Settings = settings_for(database_url, "127.0.0.1:1", "t.", jwt_keys, tmp_path)
    async with running_app(create_app(settings.model_copy(update={"role": ProcessRole.API}))) as c:
        admin = await admin_headers(c)
        await build_tree(c, admin)
        c.headers.update(admin)
        yield c


def _names(r: httpx.Response, field: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]], r.json()


async def test_integers_past_the_database_are_refused(client: httpx.AsyncClient) -> None:
    _names(await client.get("/residents", params={"after": TOO_BIG}), "after")
    _names(await client.get("/residents", headers={"X-After-Position": TOO_BIG}), "X-After-Position")
    _names(await client.get("/residents", params={"offset": TOO_BIG}), "offset")
    _names(await client.get("/residents", params={"offset": "100001"}), "offset")
    ok = await client.get("/residents", params={"after": str(2**63 - 1), "offset": "100000"})
    assert ok.status_code == 200, ok.text


async def test_control_characters_are_refused_in_bodies_queries_and_paths(client: httpx.AsyncClient) -> None:
    _names(await client.post("/residents", json=resident_body(name="王\x00秀英")), "name")
    _names(await client.post("/residents", json=resident_body(building="12\n")), "building")
    _names(await client.get("/residents", params={"skill": "sew\x00ing"}), "skill")
    _names(await client.get("/residents/abc%00def"), "path")
    _names(await client.post("/auth/token", data={"username": "ad\x00min", "password": "x"}), "username")


async def test_lists_and_strings_are_bounded(client: httpx.AsyncClient) -> None:
    skills: list[Any] = [f"skill {n}" for n in range(20_000)]
    _names(await client.post("/residents", json=resident_body(skills=skills)), "skills")
    _names(await client.post("/residents", json=resident_body(skills=["x" * 51])), "skills.0")
    _names(await client.post("/residents", json=resident_body(grid_code="1" * 33)), "grid_code")
    created = await client.post("/residents", json=resident_body(skills=["sewing"] * 30))
    assert created.status_code == 201, created.text
